using System.Text;
using System.Threading.Channels;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.TestKit;

namespace MeshActors.Cli.Tests;

/// <summary>
/// Compatibility with plain Marketrix peers. The peer is written from the Marketrix facts alone
/// (docs: ../shared/reference/peers.md): Node.js's http2, POST /channel with x-service-name and no x-mesh-protocol, no
/// hello, [u32 big-endian length][JSON] frames both ways; as a listener it answers ":status 200" and nothing more, and
/// registers in Redis with SET mesh:service:{name}:{uuid} {"id","service_name","host","port"[,"metadata"]} EX 6,
/// refreshed every 2 s. It runs against a real MeshNode on a real redis-server over loopback HTTP/2.
/// </summary>
public sealed class PlainPeerInteropSpec : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("marketrix-review-");
    private readonly List<MeshNode> _nodes = [];
    private readonly List<ChildProcess> _peers = [];

    public Task InitializeAsync() => _redis.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var peer in _peers)
            await peer.DisposeAsync();
        foreach (var node in _nodes)
            await node.DisposeAsync();
        await _redis.StopAsync();
        _dir.Delete(recursive: true);
    }

    /// <summary>
    /// A Marketrix listener registered as service_name "plain-listener" answers the node's dial with ":status 200" only
    /// (no x-service-name: Marketrix has no such response header). IMesh.SendAsync sends "to the node with this id or
    /// name", and MessageContext.SenderName is the sender's name; the node knows the name from the registration it
    /// dialed, yet the peer's link is named after its UUID.
    /// </summary>
    [Fact]
    public async Task A_mesh_node_must_know_a_plain_member_it_dialed_by_the_service_name_it_registered()
    {
        var peer = StartPeer("--name", "plain-listener", "--listen", "0", "--redis", _redis.ConnectionString,
            "--script", """[{"json":{"message":"Message from Python #0"}}]""");
        await peer.WaitForLineAsync("registered ");
        var node = await StartNodeAsync("mesh-dialer");
        var received = SubscribeToChannelMessages(node);

        var first = await received.Reader.ReadAsync().AsTask().WithTimeout();
        Assert.Equal("""{"message":"Message from Python #0"}""", Encoding.UTF8.GetString(first.Data.Span));
        Assert.Equal("plain-listener", first.SenderName);
        await node.SendAsync("plain-listener", new { message = "answer by name" });
        await peer.WaitForLineAsync(line => line.Contains("answer by name", StringComparison.Ordinal));
    }

    /// <summary>
    /// docs/protocol.md 2.3 and 4.3: on a plain channel every frame is a raw message "whatever it contains", and bad input
    /// is dropped (docs/architecture.md, Bad input: "invalid JSON from a plain peer | dropped ... continue"). A frame that
    /// is not valid UTF-8 (a Latin-1 "é") but whose top-level "t" is "hello" is such input: the v1 rule that a malformed
    /// hello closes the channel has no place where there is no handshake, and would lose the frames behind it.
    /// </summary>
    [Fact]
    public async Task A_plain_channel_must_drop_an_undecodable_frame_whose_t_is_hello_and_go_on()
    {
        var node = await StartNodeAsync("mesh-listener");
        var received = SubscribeToChannelMessages(node);
        var peer = StartPeer("--name", "plain-dialer", "--dial", $"{node.Self.Host}:{node.Self.Port}",
            "--script", """[{"json":{"message":"before"}},{"b64":"eyJ0IjoiaGVsbG8iLCJuYW1lIjoiSm9z6SJ9"},{"json":{"message":"after"}}]""");

        var before = await received.Reader.ReadAsync().AsTask().WithTimeout();
        Assert.Equal("""{"message":"before"}""", Encoding.UTF8.GetString(before.Data.Span));
        var after = received.Reader.ReadAsync().AsTask();
        var ended = peer.WaitForLineAsync("ended");
        var first = await Task.WhenAny(after, ended).WithTimeout();
        Assert.True(first == after, "the node ended the plain channel (the peer saw its end) instead of dropping the frame:\n" + peer.Transcript);
        Assert.Equal("""{"message":"after"}""", Encoding.UTF8.GetString((await after).Data.Span));
    }

    /// <summary>
    /// peers.md: a Marketrix registration's "metadata" is the peer's own, optional, any object; README: "Python and
    /// Node.js peers join as they are". A plain peer whose metadata holds its own "tags" list (no protocol_version: it
    /// knows nothing of MeshActors) is refused as a whole by the registration codec and never dialed, while a plain peer
    /// without metadata, in the same listing, is.
    /// </summary>
    [Fact]
    public async Task A_mesh_node_must_discover_a_plain_member_whose_own_metadata_has_a_tags_list()
    {
        var tagged = StartPeer("--name", "plain-tagged", "--listen", "0", "--redis", _redis.ConnectionString,
            "--metadata", """{"version":"1.0.3","tags":["gpu","eu-1"]}""");
        var bare = StartPeer("--name", "plain-bare", "--listen", "0", "--redis", _redis.ConnectionString);
        await tagged.WaitForLineAsync("registered ");
        await bare.WaitForLineAsync("registered ");

        var node = await StartNodeAsync("mesh-dialer");
        // Both keys were in Redis before the node's first listing: once one is a member, the listing has read both.
        await Conditions.AwaitConditionAsync(() => node.Members.Any(member => member.Name == "plain-bare"), TestTimeouts.Default,
            message: "the plain member without metadata was never discovered");
        Assert.Contains(node.Members, member => member.Name == "plain-tagged");
        await tagged.WaitForLineAsync("connected ");
    }

    private ChildProcess StartPeer(params string[] arguments)
    {
        var script = Path.Combine(_dir.FullName, "marketrix_peer.mjs");
        if (!File.Exists(script))
            File.WriteAllText(script, PeerScript);
        var peer = ChildProcess.Start("node", [script, .. arguments]);
        _peers.Add(peer);
        return peer;
    }

    private async Task<MeshNode> StartNodeAsync(string name)
    {
        var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            Discovery = new DiscoveryOptions { Registry = _redis.ConnectionString },
        });
        _nodes.Add(node);
        return node;
    }

    private static Channel<TopicMessage> SubscribeToChannelMessages(MeshNode node)
    {
        var received = Channel.CreateUnbounded<TopicMessage>();
        node.Subscribe(IMesh.ChannelTopic, message =>
        {
            received.Writer.TryWrite(message);
            return default;
        });
        return received;
    }

    // The plain Marketrix peer: --listen PORT [--redis HOST:PORT --metadata JSON] or --dial HOST:PORT, --name, and
    // --script: what to send once the channel is open ({"json":..} a frame of that JSON, {"b64":..} a frame of those
    // bytes, {"end":true} ends its body). Prints "listening", "registered", "connected", "frame <len> <text>", "ended".
    private const string PeerScript = """
// A plain Marketrix peer from /work/shared/reference/peers.md only: POST /channel with x-service-name, no hello,
// [u32 BE length][JSON] frames both ways; optionally registered in Redis with only the Marketrix fields.
import http2 from 'node:http2';
import net from 'node:net';
import { randomUUID } from 'node:crypto';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const name = args.name ?? 'plain-peer';
const id = args.id ?? randomUUID();
const script = JSON.parse(args.script ?? '[]');
const out = line => process.stdout.write(line + '\n');

const frame = payload => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
};

function run(stream, peer) {
  out(`connected ${peer}`);
  let pending = Buffer.alloc(0);
  stream.on('data', chunk => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (pending.length < 4 + length) break;
      const text = pending.subarray(4, 4 + length).toString('utf8');
      out(`frame ${length} ${text.length > 200 ? text.slice(0, 200) : text}`);
      pending = pending.subarray(4 + length);
    }
  });
  stream.on('end', () => out('ended'));
  stream.on('close', () => out('closed'));
  stream.on('error', e => out(`error ${e.message}`));
  for (const step of script) {
    if (step.json !== undefined) stream.write(frame(Buffer.from(JSON.stringify(step.json), 'utf8')));
    else if (step.b64 !== undefined) stream.write(frame(Buffer.from(step.b64, 'base64')));
    else if (step.end) stream.end();
  }
  out('scripted');
}

function redis(words) {
  const [host, port] = args.redis.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host, () =>
      socket.end(`*${words.length}\r\n` + words.map(w => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')));
    let reply = '';
    socket.on('data', d => reply += d);
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

if (args.dial) {
  const session = http2.connect(`http://${args.dial}`);
  session.on('error', e => out(`error ${e.message}`));
  const request = session.request({ ':method': 'POST', ':path': '/channel', 'x-service-name': name }, { endStream: false });
  request.on('response', headers => run(request, `status=${headers[':status']}`));
} else {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (headers[':path'] !== '/channel' || headers[':method'] !== 'POST') { stream.respond({ ':status': 404 }); stream.end(); return; }
    stream.respond({ ':status': 200 });
    run(stream, `from=${headers['x-service-name']}`);
  });
  server.listen(Number(args.listen ?? 0), '127.0.0.1', async () => {
    const port = server.address().port;
    out(`listening ${port}`);
    if (args.redis) {
      const key = `mesh:service:${name}:${id}`;
      const value = JSON.stringify(args.metadata
        ? { id, service_name: name, host: '127.0.0.1', port, metadata: JSON.parse(args.metadata) }
        : { id, service_name: name, host: '127.0.0.1', port });
      const set = () => redis(['SET', key, value, 'EX', '6']);
      await set();
      setInterval(set, 2000);
      out(`registered ${key}`);
    }
  });
}

""";
}
