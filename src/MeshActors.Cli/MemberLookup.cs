using MeshActors.Discovery;

namespace MeshActors.Cli;

/// <summary>Finds a node by id, name or host:port, as the commands that take a node argument accept it.</summary>
internal static class MemberLookup
{
    public static MeshMember? Find(IEnumerable<MeshMember> members, string target) =>
        members.FirstOrDefault(m => m.Id.Equals(target, StringComparison.OrdinalIgnoreCase))
        ?? members.FirstOrDefault(m => m.Name == target)
        ?? members.FirstOrDefault(m => m.Address == target);

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
