using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport;

using MeshActors.TestKit;
using MeshActors.Testing;

/// <summary>
/// Bad callers at the listener over real loopback sockets: each must get its documented answer (docs/protocol.md 1,
/// 2.2), one log line and a count in the listener's stats.
/// </summary>
public sealed class ListenerBadPeerSpec(ITestOutputHelper output)
{
    private const int NotHttp2Log = 3005;

    // docs/protocol.md 1: "a client that does not negotiate h2 is closed after the TLS handshake rather than answered
    // 400 (2.2)"; 2.2: "HTTP/1.x (no HTTP/2 preface) ... over TLS the connection is closed"; event 3005 ("Rejected a
    // connection ...: it did not start with the HTTP/2 preface (an HTTP/1.x client?); ... closes it over TLS") and
    // TransportStats.ChannelsRejected ("wrong path, method or protocol") are how the listener reports it. An ordinary
    // HTTP/1.1 client over TLS (HttpClient at its default version, curl --http1.1) offers ALPN "http/1.1" only: a
    // listener offering "h2" alone would fail that TLS handshake, and never see, log or count the client.
    [Fact]
    public async Task An_HTTP_1_1_client_over_TLS_offering_ALPN_http_1_1_must_be_closed_after_the_handshake_logged_and_counted()
    {
        using var authority = TestAuthority.Create();
        using var certificate = authority.IssueNodeCertificate();
        await using var loopback = await Loopback.StartAsync(
            output, Loopback.DefaultOptions with { Certificate = certificate, TrustedRoots = [authority.Certificate] });
        using var client = new TcpClient();
        await client.ConnectAsync(loopback.Listener.LocalEndPoint).WithTimeout();
        await using var tls = new SslStream(client.GetStream());

        Exception? handshakeFailure = null;
        var read = 0;
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "127.0.0.1",
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }).WithTimeout();
            await tls.WriteAsync("POST /channel HTTP/1.1\r\nHost: 127.0.0.1\r\nx-service-name: curl\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
            read = await tls.ReadAtLeastAsync(new byte[64], 1, throwOnEndOfStream: false).AsTask().WithTimeout();
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            handshakeFailure = e;
            output.WriteLine($"the client saw {e.GetType().Name}: {e.Message} ({e.InnerException?.Message})");
        }

        await Conditions.AwaitConditionAsync(
            () => loopback.Listener.Stats.ChannelsRejected == 1, TestTimeouts.Scaled(TimeSpan.FromSeconds(5)),
            message: "the listener never counted the HTTP/1.1 client it refused (TransportStats.ChannelsRejected stayed 0)");
        Assert.Equal(1, loopback.Log.Count(NotHttp2Log));
        Assert.Null(handshakeFailure); // closed after the TLS handshake, not refused in it
        Assert.Equal(0, read); // closed, not answered
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAccepted);
    }
}
