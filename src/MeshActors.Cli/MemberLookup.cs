using MeshActors.Discovery;

namespace MeshActors.Cli;

/// <summary>Finds a node by id, name or host:port, as the commands that take a node argument accept it.</summary>
internal static class MemberLookup
{
    public static MeshMember? Find(IEnumerable<MeshMember> members, string target) =>
        members.FirstOrDefault(m => m.Id.Equals(target, StringComparison.OrdinalIgnoreCase))
        ?? members.FirstOrDefault(m => m.Name == target)
        ?? members.FirstOrDefault(m => m.Address == target);

    /// <summary>
    /// Waits (up to <paramref name="timeout"/>) until a round trip reaches <paramref name="node"/>: the registry shows a
    /// node a moment before the channel to it is up, and a message published meanwhile goes only to the nodes already
    /// connected, so a short-lived tool that publishes once would miss it.
    /// </summary>
    public static async Task ConnectAsync(IMesh mesh, string node, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (!deadline.IsCancellationRequested)
        {
            try
            {
                await mesh.PingAsync(node, deadline.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return; // what follows reports what is wrong
            }
        }
    }

    /// <summary>
    /// Connects to every node the registry shows listening to <paramref name="topic"/> (see <see cref="ConnectAsync"/>):
    /// <see cref="IMesh.WaitForSubscriberAsync"/> returns once the first of them is connected.
    /// </summary>
    public static Task ConnectToSubscribersAsync(IMesh mesh, string topic, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.WhenAll(mesh.Members.Where(m => m.Topics.Contains(topic)).Select(m => ConnectAsync(mesh, m.Id, timeout, cancellationToken)));

    /// <summary>The member <paramref name="target"/> names once the registry shows it; null when it does not within <paramref name="timeout"/>.</summary>
    public static async Task<MeshMember?> WaitForAsync(IMesh mesh, string target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var found = new TaskCompletionSource<MeshMember>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var membership = mesh.OnMembership(e =>
        {
            if (e is not MemberDown && Find([e.Member], target) is { } member)
                found.TrySetResult(member);
        });
        if (Find(mesh.Members, target) is { } known)
            return known;
        try
        {
            return await found.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}
