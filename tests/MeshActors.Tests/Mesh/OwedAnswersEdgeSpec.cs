using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using MeshActors.Actors;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Discovery;
using MeshActors.Tests.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>
/// The refusal of a reused request id (docs/protocol.md 5.3), checked against a real node through a hand-driven v1
/// channel over loopback HTTP/2; and the shared local directory made again after a wipe.
/// </summary>
public sealed class OwedAnswersEdgeSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    /// <summary>
    /// docs/protocol.md 5.3: "a req reusing the id of one still unanswered is refused with bad_envelope without id (the
    /// first one is still answered)", also when the reusing req is a <c>$ping</c> (or names a service the node does not
    /// host, or comes while it drains): answered with the reused id, it would pass for the answer to the request still
    /// running, whose own answer would then come as a second one under the same id.
    /// </summary>
    [Fact]
    public async Task A_ping_reusing_the_id_of_a_request_in_flight_must_be_refused_without_that_id()
    {
        var node = await Start("provider");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await node.AddService<int, int>("slow", async (n, _, _) =>
        {
            started.TrySetResult();
            return n + await gate.Task;
        }).Ready;
        await using var peer = await HandDrivenChannel.DialAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));
        await peer.HandshakeAsync("hand-" + Guid.NewGuid().ToString("N"));
        var received = new ConcurrentQueue<Envelope>();
        using var stop = new CancellationTokenSource();
        var reading = CollectAsync(peer, received, stop.Token);

        await peer.WriteAsync(new Envelope.Req(7, "slow", "1"u8.ToArray()));
        await started.Task.WithTimeout();
        await peer.WriteAsync(new Envelope.Req(7, "$ping", "null"u8.ToArray()));
        // Answered on the read loop, in order: once its res is in, so is anything said about the reused id.
        await peer.WriteAsync(new Envelope.Req(8, "$ping", "null"u8.ToArray()));
        await AwaitConditionAsync(() => received.Any(e => e is Envelope.Res { Id: 8 }), TestTimeouts.Default, message: "the $ping to be answered");
        gate.SetResult(40);
        await AwaitConditionAsync(() => received.Any(e => e is Envelope.Res { Id: 7 } && UnaryClient.Describe(e) == "res 7 41"), TestTimeouts.Default, message: "request 7 to be answered by its handler");
        await stop.CancelAsync();
        await reading;

        var answersTo7 = received.Where(e => e is Envelope.Res { Id: 7 } or Envelope.Err { Id: 7 }).Select(UnaryClient.Describe).ToList();
        Assert.True(answersTo7.SequenceEqual(["res 7 41"]),
            $"request 7 got {answersTo7.Count} answers under its id, in this order: {string.Join(" | ", answersTo7)}");
        Assert.Contains(received, e => e is Envelope.Err { Id: null, Code: ErrorCodes.BadEnvelope });
    }

    // Reads envelopes into received until stopped or the node ends its side.
    private static async Task CollectAsync(HandDrivenChannel peer, ConcurrentQueue<Envelope> received, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (await peer.ReadAsync().WaitAsync(stop) is not { } envelope)
                    return;
                if (envelope is Envelope.Ping ping)
                    await peer.WriteAsync(new Envelope.Pong(ping.Value));
                else
                    received.Enqueue(envelope);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (TimeoutException)
        {
            // Nothing came for the read's whole timeout: the conditions above report what was missing.
        }
    }
}

/// <summary>
/// The default local registry directory, shared by the machine's users (docs/discovery.md), in a real process of its
/// own whose temp directory (TMPDIR) is private to the spec.
/// </summary>
[Collection(nameof(ProcessesCollection))]
public sealed class SharedLocalDirectoryAfterWipeSpec : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("meshactors-shared-spec-");

    public void Dispose() => _temp.Delete(recursive: true);

    /// <summary>
    /// docs/discovery.md: the default directory is "made by its first node sticky and writable by every user, as /tmp
    /// is". The registry copes with a directory wiped under live nodes (their next heartbeat writes their entries
    /// again), and the node that writes first must make it again as it was: made as the umask narrows it (0755), it
    /// would let no other user's nodes register, which is what sharing it is for.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_default_local_directory_must_stay_shared_by_the_machines_users_when_a_node_makes_it_again_after_a_wipe()
    {
        var root = Path.Combine(_temp.FullName, "meshactors");
        var prefix = "spec-" + Guid.NewGuid().ToString("N")[..8];
        var directory = Path.Combine(root, prefix);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "MeshActors.Tests.RegistryNode.dll"), "local", prefix, "2", "50" })
            start.ArgumentList.Add(argument);
        start.Environment["TMPDIR"] = _temp.FullName;
        using var process = Process.Start(start)!;
        var lines = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue(line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue("stderr " + line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var id = await Eventually.UntilAsync(
                () => Task.FromResult(lines.FirstOrDefault(line => line.StartsWith("id ", StringComparison.Ordinal))?[3..]),
                value => value is not null && File.Exists(Path.Combine(directory, value + ".json")) || process.HasExited,
                TestTimeouts.Default, "the node registers in the default directory");
            Assert.True(!process.HasExited && id is not null, string.Join(" | ", lines));
            AssertShared(root, "as its first node made it");

            // Wiped under the live node (a clean-up of the temp directory, a user's rm -rf): retried while the node
            // writes into it at the same time.
            await Eventually.UntilAsync(() =>
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or DirectoryNotFoundException)
                {
                }

                return Task.FromResult(!Directory.Exists(root));
            }, gone => gone, TestTimeouts.Default, "the default directory is wiped");
            await Eventually.UntilAsync(() => Task.FromResult(File.Exists(Path.Combine(directory, id + ".json")) || process.HasExited), seen => seen,
                TestTimeouts.Default, "the node writes its entry again at its next heartbeat");
            Assert.False(process.HasExited, string.Join(" | ", lines));

            AssertShared(root, "as the node made it again after the wipe");
            AssertShared(directory, "as the node made it again after the wipe");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void AssertShared(string directory, string when)
    {
        var mode = File.GetUnixFileMode(directory);
        Assert.True(mode.HasFlag(UnixFileMode.OtherWrite) && mode.HasFlag(UnixFileMode.StickyBit),
            $"{directory}, {when}, is {mode}: not writable by the machine's other users and sticky, as a temp directory is");
    }
}
