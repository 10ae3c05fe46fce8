using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using MeshActors.Messaging;
using MeshActors.Tests.Mesh;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>
/// docs/protocol.md as an implementer reads it: a Node.js peer (built-in http2, no packages), written from the document
/// alone and driven step by step from the test, opens channels to a .NET node, restarts with its node id, and keeps two
/// channels at once (7.4).
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class NodePeerInteropSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    private const string NodePeerId = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

    // docs/protocol.md 7.4, a node that restarted: "the old run is gone, and its channel may be half-open ... The node then
    // ends what was in flight with the old run as if its channel had closed". 5.7: a receiver keeps the announcement
    // with the highest 'ver', and a restarted run's versions start again. An announcement the old run wrote before it
    // died, delivered late on its half-open channel, must not stand for the new run: here it replaces the new run's
    // routes, and, its 'ver' being above the new run's, every later announcement of the new run is ignored.
    [Fact]
    public async Task A_restarted_peers_routes_must_not_be_replaced_by_an_announcement_its_previous_run_wrote_on_its_half_open_channel()
    {
        using var metrics = new MeshMeterListener();
        var node = await Start("dotnet");
        await using var peer = NodePeer.Start(Output!, $"http://{node.Self.Host}:{node.Self.Port}");

        // The first run: a channel, its hello with an incarnation, an announcement (its 40th: it ran for a while).
        peer.Do(new { op = "open", ch = "old", session = "2", name = "nodepeer" });
        await peer.WaitForAsync(e => IsFrame(e, "old", "hello"));
        peer.Do(new { op = "send", ch = "old", frame = Hello("run-1") });
        peer.Do(new { op = "send", ch = "old", frame = new { t = "interest", ver = 40, topics = Array.Empty<string>(), services = new[] { "svc-old" } } });
        await AwaitConditionAsync(() => Provided(node, "svc-old"), TestTimeouts.Default, message: "the node to route svc-old to the first run");

        // Its last announcement is written but still on its way (the connection is about to go half-open).
        peer.Do(new { op = "cork", ch = "old" });
        peer.Do(new { op = "send", ch = "old", frame = new { t = "interest", ver = 41, topics = Array.Empty<string>(), services = new[] { "svc-old" } } });

        // The restarted run dials with the same node id and another incarnation: it takes over ("wins whoever dialled
        // either"), and the node resets the old run's channel.
        peer.Do(new { op = "open", ch = "new", session = "3", name = "nodepeer" });
        await peer.WaitForAsync(e => IsFrame(e, "new", "hello"));
        peer.Do(new { op = "send", ch = "new", frame = Hello("run-2") });
        await peer.WaitForAsync(e => IsEvent(e, "stream-error", "old") || IsEvent(e, "end", "old"));
        peer.Do(new { op = "send", ch = "new", frame = new { t = "interest", ver = 1, topics = Array.Empty<string>(), services = new[] { "svc-new" } } });
        await AwaitConditionAsync(
            () => Provided(node, "svc-new") && !Provided(node, "svc-old"), TestTimeouts.Default, message: "the node to route svc-new, not svc-old, to the new run");

        // The old run's announcement arrives now, and its channel ends; the node is done with it.
        peer.Do(new { op = "uncork", ch = "old" });
        peer.Do(new { op = "end", ch = "old" });
        await AwaitConditionAsync(
            () => metrics.Collect().GetValueOrDefault((node.Id, "meshactors.channels.open", null), -1) == 1,
            TestTimeouts.Default,
            message: "the node to be done with the old run's channel");

        // The new run announces a second service.
        peer.Do(new { op = "send", ch = "new", frame = new { t = "interest", ver = 2, topics = Array.Empty<string>(), services = new[] { "svc-new", "svc-new2" } } });
        var outcome = await Record.ExceptionAsync(() => AwaitConditionAsync(
            () => Provided(node, "svc-new2") && !Provided(node, "svc-old"), TestTimeouts.Scaled(TimeSpan.FromSeconds(5))));
        Assert.True(
            outcome is null,
            $"the node routes for the restarted peer: svc-old {Provided(node, "svc-old")}, svc-new {Provided(node, "svc-new")}, svc-new2 {Provided(node, "svc-new2")}"
            + " (the old run's late announcement ver 41 replaced the new run's ver 1, and ver 2 was ignored)");
    }

    // docs/protocol.md 7.4: "a bye duplicate can arrive before the hello of the channel kept: the receiver keeps the peer
    // connected ... for as long as a handshake may take"; 5.7: "A node sends its current announcement right after the
    // handshake, including on a channel that takes over from another of the same peer (7.4: the peer may have dropped the
    // old one and forgotten the announcement with it)". The Node peer dials two channels, retires the first ("bye
    // duplicate", the second has the smaller x-session-id) and its hello on the second comes after that bye: the node
    // answers requests on the kept channel, but never sends its announcement there.
    [Fact]
    public async Task A_channel_kept_after_an_early_duplicate_bye_must_get_the_nodes_announcement()
    {
        using var metrics = new MeshMeterListener();
        var node = await Start("dotnet");
        await node.AddService<int, int>("svc", (x, _, _) => ValueTask.FromResult(x + 1)).Ready;
        await using var peer = NodePeer.Start(Output!, $"http://{node.Self.Host}:{node.Self.Port}");

        peer.Do(new { op = "open", ch = "first", session = "2", name = "nodepeer" });
        await peer.WaitForAsync(e => IsFrame(e, "first", "hello"));
        peer.Do(new { op = "send", ch = "first", frame = Hello("run-1") });
        await peer.WaitForAsync(e => IsFrame(e, "first", "interest"));
        peer.Do(new { op = "send", ch = "first", frame = new { t = "interest", ver = 1, topics = Array.Empty<string>(), services = Array.Empty<string>() } });

        // A second channel, with the smaller session id: the one both ends keep. Its hello travels on its own connection,
        // the bye on the first one's: the bye arrives first.
        peer.Do(new { op = "open", ch = "kept", session = "1", name = "nodepeer" });
        await peer.WaitForAsync(e => IsFrame(e, "kept", "hello"));
        peer.Do(new { op = "send", ch = "first", frame = new { t = "bye", reason = "duplicate" } });
        peer.Do(new { op = "end", ch = "first" });
        await peer.WaitForAsync(e => IsEvent(e, "end", "first"));
        await AwaitConditionAsync(
            () => metrics.Collect().GetValueOrDefault((node.Id, "meshactors.channels.open", null), -1) == 0,
            TestTimeouts.Default,
            message: "the node to be done with the retired channel");

        peer.Do(new { op = "send", ch = "kept", frame = Hello("run-1") });
        peer.Do(new { op = "send", ch = "kept", frame = new { t = "interest", ver = 2, topics = Array.Empty<string>(), services = Array.Empty<string>() } });

        // The kept channel carries the link: a request on it is answered on it.
        peer.Do(new { op = "send", ch = "kept", frame = new { t = "req", id = 1, service = "svc", data = 41 } });
        var res = await peer.WaitForAsync(e => IsFrame(e, "kept", "res"));
        Assert.Equal(42, res.GetProperty("f").GetProperty("data").GetInt32());

        var interest = await Record.ExceptionAsync(() => peer.WaitForAsync(e => IsFrame(e, "kept", "interest"), TestTimeouts.Scaled(TimeSpan.FromSeconds(5))));
        Assert.True(interest is null, "the node sent no interest on the channel that took over after the early 'bye duplicate'");
    }

    private static object Hello(string incarnation) =>
        new { t = "hello", v = 1, node = NodePeerId, name = "nodepeer", caps = new[] { "bin" }, max_frame = 16777216, incarnation };

    private static bool Provided(MeshNode node, string service) =>
        node.MessagingLayer.Routes.Current.Service(service) is not null;

    private static bool IsEvent(JsonElement e, string ev, string ch) =>
        e.GetProperty("ev").GetString() == ev && e.TryGetProperty("ch", out var c) && c.GetString() == ch;

    private static bool IsFrame(JsonElement e, string ch, string type) =>
        IsEvent(e, "frame", ch) && e.GetProperty("f").TryGetProperty("t", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type;

    /// <summary>
    /// A Node.js peer written from docs/protocol.md alone (sections 2, 3, 7.1, 12): it opens channels with h2c prior
    /// knowledge, frames JSON with a 4-byte big-endian length, answers pings, and otherwise does what the test tells it
    /// on stdin (one JSON command a line), reporting what it receives on stdout (one JSON event a line).
    /// </summary>
    private sealed class NodePeer : IAsyncDisposable
    {
        private const string Script = """
            import http2 from "node:http2";
            import readline from "node:readline";

            const target = process.argv[2];
            const channels = new Map();
            const out = (event) => process.stdout.write(JSON.stringify(event) + "\n");
            const encode = (envelope) => {
              const payload = Buffer.from(JSON.stringify(envelope), "utf8");
              const length = Buffer.alloc(4);
              length.writeUInt32BE(payload.length);
              return Buffer.concat([length, payload]);
            };

            function open(cmd) {
              const session = http2.connect(target);
              session.on("error", (e) => out({ ev: "session-error", ch: cmd.ch, msg: String(e) }));
              const headers = { ":method": "POST", ":path": "/channel", "x-service-name": cmd.name, "x-mesh-protocol": "1" };
              if (cmd.session) headers["x-session-id"] = cmd.session;
              const stream = session.request(headers, { endStream: false });
              const channel = { session, stream, buffer: Buffer.alloc(0) };
              channels.set(cmd.ch, channel);
              stream.on("response", (h) => out({ ev: "response", ch: cmd.ch, status: h[":status"], v: h["x-mesh-protocol"] ?? null }));
              stream.on("data", (chunk) => {
                channel.buffer = Buffer.concat([channel.buffer, chunk]);
                while (channel.buffer.length >= 4) {
                  const length = channel.buffer.readUInt32BE(0);
                  if (channel.buffer.length < 4 + length) break;
                  const payload = channel.buffer.subarray(4, 4 + length);
                  channel.buffer = channel.buffer.subarray(4 + length);
                  if (length === 0) continue;
                  const frame = JSON.parse(payload.toString("utf8"));
                  if (frame.t === "ping") { if (!stream.writableEnded) stream.write(encode({ t: "pong", n: frame.n })); continue; }
                  out({ ev: "frame", ch: cmd.ch, f: frame });
                }
              });
              stream.on("end", () => out({ ev: "end", ch: cmd.ch }));
              stream.on("error", (e) => out({ ev: "stream-error", ch: cmd.ch, msg: String(e) }));
            }

            readline.createInterface({ input: process.stdin }).on("line", (line) => {
              const cmd = JSON.parse(line);
              const channel = channels.get(cmd.ch);
              switch (cmd.op) {
                case "open": open(cmd); break;
                case "send": channel.stream.write(encode(cmd.frame)); break;
                case "cork": channel.stream.cork(); break;
                case "uncork": channel.stream.uncork(); break;
                case "end": channel.stream.end(); break;
                case "exit": process.exit(0);
              }
            }).on("close", () => process.exit(0));
            out({ ev: "ready" });
            """;

        private readonly Process _process;
        private readonly string _path;
        private readonly Channel<JsonElement> _events = Channel.CreateUnbounded<JsonElement>();
        private readonly List<JsonElement> _seen = [];

        private NodePeer(Process process, string path)
        {
            _process = process;
            _path = path;
        }

        public static NodePeer Start(ITestOutputHelper output, string target)
        {
            var path = Path.Combine(Path.GetTempPath(), "meshactors-nodepeer-" + Guid.NewGuid().ToString("N") + ".mjs");
            File.WriteAllText(path, Script);
            var start = new ProcessStartInfo("node")
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            start.ArgumentList.Add(path);
            start.ArgumentList.Add(target);
            var peer = new NodePeer(new Process { StartInfo = start }, path);
            peer._process.OutputDataReceived += (_, line) =>
            {
                if (line.Data is null)
                    return;
                Write(output, "node: " + line.Data);
                peer._events.Writer.TryWrite(JsonDocument.Parse(line.Data).RootElement.Clone());
            };
            peer._process.ErrorDataReceived += (_, line) => Write(output, "node stderr: " + line.Data);
            peer._process.Start();
            peer._process.BeginOutputReadLine();
            peer._process.BeginErrorReadLine();
            return peer;
        }

        public void Do(object command)
        {
            _process.StandardInput.WriteLine(JsonSerializer.Serialize(command));
            _process.StandardInput.Flush();
        }

        /// <summary>The first event, seen so far or to come, that <paramref name="match"/> accepts.</summary>
        public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, TimeSpan? timeout = null)
        {
            foreach (var seen in _seen)
            {
                if (match(seen))
                    return seen;
            }

            using var cancel = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
            while (true)
            {
                var next = await _events.Reader.ReadAsync(cancel.Token);
                _seen.Add(next);
                if (match(next))
                    return next;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
                _process.Kill();
            await _process.WaitForExitAsync();
            _process.Dispose();
            File.Delete(_path);
        }

        private static void Write(ITestOutputHelper output, string line)
        {
            try
            {
                output.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
                // The test has finished.
            }
        }
    }
}
