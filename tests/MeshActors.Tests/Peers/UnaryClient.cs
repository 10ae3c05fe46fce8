using System.Buffers;
using System.Net;
using System.Text;
using MeshActors.Protocol;

namespace MeshActors.Tests.Peers;

/// <summary>
/// A caller that keeps no channel, as a script would be: one <c>POST /unary</c> through <see cref="HttpClient"/> over
/// HTTP/2 with prior knowledge, the whole request body sent and ended, the response body read to its end and decoded.
/// </summary>
internal static class UnaryClient
{
    /// <summary>The answer to a call: status, the <c>x-mesh-protocol</c> the node answered (null when none), the frames decoded.</summary>
    public sealed record Response(HttpStatusCode Status, string? Version, IReadOnlyList<Envelope> Frames);

    /// <summary>Sends <paramref name="frames"/> as the request body, offering <paramref name="versions"/> (null: a plain call).</summary>
    public static async Task<Response> CallAsync(DnsEndPoint address, IEnumerable<byte[]> frames, string? versions = "1", string name = "script")
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{address.Host}:{address.Port}/unary")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frames.SelectMany(frame => frame).ToArray()),
        };
        request.Headers.Add(WireProtocol.ServiceNameHeader, name);
        if (versions is not null)
        {
            request.Headers.Add(WireProtocol.VersionHeader, versions);
        }

        using var response = await http.SendAsync(request).WithTimeout();
        var body = await response.Content.ReadAsByteArrayAsync().WithTimeout();
        var version = response.Headers.TryGetValues(WireProtocol.VersionHeader, out var values) ? values.Single() : null;
        return new Response(response.StatusCode, version, Decode(body, plain: version is null));
    }

    /// <summary>Decodes a whole response body; every frame must be complete.</summary>
    public static List<Envelope> Decode(byte[] body, bool plain = false)
    {
        var decoder = new EnvelopeDecoder();
        var buffer = new ReadOnlySequence<byte>(body);
        var frames = new List<Envelope>();
        while (FrameReader.TryReadFrame(ref buffer, int.MaxValue, out var payload))
        {
            if ((plain ? EnvelopeDecoder.DecodeRaw(payload) : decoder.Decode(payload)) is { } envelope)
            {
                frames.Add(envelope);
            }
        }

        Assert.True(buffer.IsEmpty, $"{buffer.Length} bytes after the last whole frame");
        return frames;
    }

    /// <summary>One frame whose payload is <paramref name="json"/>.</summary>
    public static byte[] Frame(string json) => RawPeer.Frame(Encoding.UTF8.GetBytes(json));

    public static byte[] Hello(string node, string name, bool attachments = false) =>
        Frame($$"""{"t":"hello","v":1,"node":"{{node}}","name":"{{name}}","caps":[{{(attachments ? "\"bin\"" : "")}}]}""");

    /// <summary>A <c>req</c>; without <paramref name="timeoutMs"/> it has none (the node's default applies).</summary>
    public static byte[] Req(long id, string service, string data = "null", int? timeoutMs = null) =>
        Frame($$"""{"t":"req","id":{{id}},"service":"{{service}}",{{(timeoutMs is { } ms ? $"\"timeout_ms\":{ms}," : "")}}"data":{{data}}}""");

    /// <summary>A <c>req</c> whose timeout is the tests' generous default, for calls that must not time out.</summary>
    public static byte[] PatientReq(long id, string service, string data = "null") =>
        Req(id, service, data, (int)TestTimeouts.Default.TotalMilliseconds);

    public static byte[] Ping(long n) => Frame($$"""{"t":"ping","n":{{n}}}""");

    public static byte[] Cancel(long id) => Frame($$"""{"t":"cancel","id":{{id}}}""");

    public static byte[] Pub(string topic, string data) => Frame($$"""{"t":"pub","topic":"{{topic}}","data":{{data}}}""");

    public static string Text(ReadOnlyMemory<byte> json) => Encoding.UTF8.GetString(json.Span);

    /// <summary>An envelope in a word or three, for comparing sequences of frames: <c>res 1 {"px":1}</c>, <c>err timeout 2</c>, <c>pong 5</c>.</summary>
    public static string Describe(Envelope envelope) => envelope switch
    {
        Envelope.Res res => $"res {res.Id} {Text(res.Data)}",
        Envelope.Err { Id: { } id } err => $"err {err.Code} {id}",
        Envelope.Err err => $"err {err.Code}",
        Envelope.Pong pong => $"pong {pong.Value}",
        Envelope.Pub pub => $"pub {pub.Topic} {Text(pub.Data)}",
        Envelope.Cancel cancel => $"cancel {cancel.Id}",
        Envelope.Req req => $"req {req.Id} {req.Service}",
        Envelope.Raw raw => $"raw {Text(raw.Json)}",
        _ => envelope.Type,
    };
}
