using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MeshActors.Protocol;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport;

using MeshActors.TestKit;
using MeshActors.Testing;

public sealed class MeshListenerSpec(ITestOutputHelper output)
{
    private const int RejectionLogEvent = 3004;

    [Fact]
    public async Task Listener_must_bind_an_ephemeral_port_and_report_it()
    {
        var listener = new MeshListener("listener", Loopback.DefaultOptions, _ => Task.CompletedTask);
        Assert.Throws<InvalidOperationException>(() => listener.LocalEndPoint);

        await listener.StartAsync().WithTimeout();
        await using (listener)
        {
            Assert.Equal(IPAddress.Loopback, listener.LocalEndPoint.Address);
            Assert.NotEqual(0, listener.LocalEndPoint.Port);
            Assert.Equal(new DnsEndPoint("127.0.0.1", listener.LocalEndPoint.Port), listener.AdvertisedEndPoint);
        }
    }

    [Fact]
    public async Task Listener_must_advertise_the_configured_host_with_the_bound_port()
    {
        await using var loopback = await Loopback.StartAsync(output, Loopback.DefaultOptions with { AdvertisedHost = "localhost" });

        Assert.Equal(new DnsEndPoint("localhost", loopback.Listener.LocalEndPoint.Port), loopback.Address);
        await using var channel = await loopback.OpenAsync();
        await loopback.AcceptAsync();
    }

    [Fact]
    public void Listener_must_refuse_a_connection_window_that_one_stalled_channel_could_exhaust()
    {
        var options = Loopback.DefaultOptions with { Http2StreamWindowSize = 8 * 1024 * 1024, Http2ConnectionWindowSize = 16 * 1024 * 1024 };

        var failure = Assert.Throws<ArgumentException>(() => new MeshListener("listener", options, _ => Task.CompletedTask));
        Assert.Contains("Http2ConnectionWindowSize", failure.Message);
    }

    [Fact]
    public async Task An_HTTP_1_1_request_must_be_answered_400_logged_and_counted()
    {
        await using var loopback = await Loopback.StartAsync(output);
        using var client = new TcpClient();
        await client.ConnectAsync(loopback.Listener.LocalEndPoint).WithTimeout();
        var stream = client.GetStream();

        await stream.WriteAsync("POST /channel HTTP/1.1\r\nHost: 127.0.0.1\r\nx-service-name: curl\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        var answer = new byte[64];
        var read = await stream.ReadAtLeastAsync(answer, 12, throwOnEndOfStream: false).AsTask().WithTimeout();

        Assert.StartsWith("HTTP/1.1 400", Encoding.ASCII.GetString(answer, 0, read));
        await Conditions.AwaitConditionAsync(() => loopback.Listener.Stats.ChannelsRejected == 1);
        Assert.Equal(1, loopback.Log.Count(3005));
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAccepted);
    }

    [Fact]
    public async Task A_request_to_another_path_must_be_answered_404_with_the_reason()
    {
        await using var loopback = await Loopback.StartAsync(output);
        using var http = H2cClient();

        using var response = await http.SendAsync(Request(HttpMethod.Post, loopback, "/other", serviceName: "curl")).WithTimeout();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("no such route; channels are opened with POST /channel\n", await response.Content.ReadAsStringAsync());
        AssertRejectedOnce(loopback);
    }

    [Fact]
    public async Task A_listener_that_serves_unary_calls_must_name_both_routes_in_its_404()
    {
        await using var loopback = await Loopback.StartAsync(output, onUnary: _ => Task.CompletedTask);
        using var http = H2cClient();

        using var response = await http.SendAsync(Request(HttpMethod.Post, loopback, "/other", serviceName: "curl")).WithTimeout();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("no such route; channels are opened with POST /channel, unary calls made with POST /unary\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_accepted_call_must_be_logged_with_its_route()
    {
        var served = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var loopback = await Loopback.StartAsync(output, onUnary: _ => { served.TrySetResult(); return Task.CompletedTask; });

        await using var call = await loopback.Dialer.OpenUnaryAsync(loopback.Address).WithTimeout();
        await served.Task.WithTimeout();

        Assert.Equal(1, loopback.Log.Count(3003, "on /unary"));
    }

    [Fact]
    public async Task GET_channel_must_be_answered_405_allowing_POST()
    {
        await using var loopback = await Loopback.StartAsync(output);
        using var http = H2cClient();

        using var response = await http.SendAsync(Request(HttpMethod.Get, loopback, "/channel", serviceName: "curl")).WithTimeout();

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["POST"], response.Content.Headers.Allow);
        AssertRejectedOnce(loopback);
    }

    [Fact]
    public async Task A_channel_request_without_x_service_name_must_be_answered_400_with_the_reason()
    {
        await using var loopback = await Loopback.StartAsync(output);
        using var http = H2cClient();

        using var response = await http.SendAsync(Request(HttpMethod.Post, loopback, "/channel", serviceName: null)).WithTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("the x-service-name header (the caller's service name) is required\n", await response.Content.ReadAsStringAsync());
        AssertRejectedOnce(loopback);
    }

    [Fact]
    public async Task A_rejection_must_reach_the_dialer_as_ChannelRejectedException_with_status_and_reason()
    {
        await using var loopback = await Loopback.StartAsync(output);

        var rejected = await Assert.ThrowsAsync<ChannelRejectedException>(() => loopback.Dialer.OpenUnaryAsync(loopback.Address).WithTimeout());

        Assert.Equal(404, rejected.StatusCode);
        Assert.Equal("no such route; channels are opened with POST /channel", rejected.Reason);
        Assert.Equal(loopback.Address, rejected.Remote);
        Assert.Equal(1, loopback.Dialer.Stats.DialFailures);
        AssertRejectedOnce(loopback);
    }

    [Fact]
    public async Task Session_id_and_metadata_headers_must_reach_the_listener_and_names_both_ways()
    {
        await using var loopback = await Loopback.StartAsync(output);
        var metadata = new Dictionary<string, string> { ["x-trace-id"] = "abc123", ["tenant"] = "blue" };

        await using var channel = await loopback.OpenAsync(sessionId: "session-7", metadata: metadata);
        var inbound = await loopback.AcceptAsync();

        Assert.True(inbound.IsInbound);
        Assert.False(channel.IsInbound);
        Assert.Equal("dialer", inbound.RemoteServiceName);
        Assert.Equal("listener", channel.RemoteServiceName);
        Assert.Equal("session-7", inbound.SessionId);
        Assert.Equal(metadata.OrderBy(pair => pair.Key), inbound.Metadata.OrderBy(pair => pair.Key));
        Assert.Equal("abc123", inbound.Metadata["X-Trace-Id"]);
        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)inbound.RemoteEndPoint!).Address);
        Assert.Equal(loopback.Address, channel.RemoteEndPoint);
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("1", 1, 1)]
    [InlineData("3, 1", 1, 1)]
    [InlineData("2", 0, 1)]
    public async Task The_listener_must_answer_the_protocol_version_it_agreed_on(string? offered, int? inboundVersion, int? outboundVersion)
    {
        await using var loopback = await Loopback.StartAsync(output);
        var metadata = offered is null ? null : new Dictionary<string, string> { [WireProtocol.VersionHeader] = offered };

        await using var channel = await loopback.OpenAsync(metadata: metadata);
        var inbound = await loopback.AcceptAsync();

        // docs/protocol.md 2.3: no offer is a plain channel; no common version is answered with the listener's own.
        Assert.Equal(inboundVersion, inbound.ProtocolVersion);
        Assert.Equal(outboundVersion, channel.ProtocolVersion);
    }

    [Theory]
    [InlineData("x-service-name")]
    [InlineData("x-session-id")]
    [InlineData("connection")]
    [InlineData("host")]
    [InlineData(":path")]
    public async Task The_dialer_must_refuse_metadata_that_would_replace_an_identity_or_connection_header(string name)
    {
        using var dialer = new MeshDialer("dialer", Loopback.DefaultOptions);

        await Assert.ThrowsAsync<ArgumentException>(
            () => dialer.OpenChannelAsync(new DnsEndPoint("127.0.0.1", 1), metadata: new Dictionary<string, string> { [name] = "x" }));
        Assert.Equal(0, dialer.Stats.DialFailures);
    }

    [Fact]
    public async Task A_unary_call_must_answer_its_request_body_with_a_response_body_then_end()
    {
        await using var loopback = await Loopback.StartAsync(output, onUnary: async call =>
        {
            var request = await MeshChannelSpec.ReadAllTextAsync(call.Input);
            await call.Output.WriteAsync(Encoding.UTF8.GetBytes($"{call.RemoteServiceName} asked: {request}"));
            await call.Output.CompleteAsync();
        });

        await using var call = await loopback.Dialer.OpenUnaryAsync(loopback.Address).WithTimeout();
        await call.Output.WriteAsync("what time is it?"u8.ToArray());
        await call.Output.CompleteAsync();

        Assert.Equal("dialer asked: what time is it?", await MeshChannelSpec.ReadAllTextAsync(call.Input));
        Assert.False(call.Aborted.IsCancellationRequested);
        Assert.Equal(0, loopback.Dialer.Stats.OpenChannels);
    }

    [Fact]
    public async Task Channels_must_work_over_TLS_with_the_configured_certificate()
    {
        using var certificate = SelfSignedCertificate();
        var options = Loopback.DefaultOptions with
        {
            Certificate = certificate,
            RemoteCertificateValidation = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
        };
        await using var loopback = await Loopback.StartAsync(output, options);

        await using var channel = await loopback.OpenAsync();
        var inbound = await loopback.AcceptAsync();

        // Enough both ways that the dialer's TLS records go through its write-behind queue, not only straight out.
        await MeshChannelSpec.TransferBothWaysAsync(channel, inbound, 16L << 20);
        loopback.Finish(inbound);
    }

    [Fact]
    public async Task A_dialer_must_refuse_a_listener_whose_certificate_it_does_not_trust()
    {
        using var certificate = SelfSignedCertificate();
        await using var loopback = await Loopback.StartAsync(output, Loopback.DefaultOptions with { Certificate = certificate });

        var failure = await Assert.ThrowsAsync<ChannelConnectException>(() => loopback.Dialer.OpenChannelAsync(loopback.Address).WithTimeout());

        Assert.Contains("TLS handshake", failure.Message, StringComparison.Ordinal);
        Assert.Contains("certificate", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAccepted);
    }

    [Fact]
    public async Task A_dialer_with_trusted_roots_must_accept_a_listener_whose_certificate_chains_to_them()
    {
        using var authority = TestAuthority.Create();
        using var certificate = authority.IssueNodeCertificate();
        var options = Loopback.DefaultOptions with { Certificate = certificate, TrustedRoots = [authority.Certificate] };
        await using var loopback = await Loopback.StartAsync(output, options);

        await using var channel = await loopback.OpenAsync();
        var inbound = await loopback.AcceptAsync();

        await MeshChannelSpec.TransferBothWaysAsync(channel, inbound, 1L << 20);
        loopback.Finish(inbound);
    }

    [Fact]
    public async Task A_dialer_with_trusted_roots_must_refuse_a_listener_certified_by_another_authority()
    {
        using var ours = TestAuthority.Create("ours");
        using var theirs = TestAuthority.Create("theirs");
        using var certificate = theirs.IssueNodeCertificate();
        await using var loopback = await Loopback.StartAsync(output, Loopback.DefaultOptions with { Certificate = certificate, TrustedRoots = [ours.Certificate] });

        var failure = await Assert.ThrowsAsync<ChannelConnectException>(() => loopback.Dialer.OpenChannelAsync(loopback.Address).WithTimeout());

        Assert.Contains("TLS handshake", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAccepted);
    }

    [Fact]
    public async Task A_dialer_with_trusted_roots_must_still_check_the_dialed_host_name()
    {
        using var authority = TestAuthority.Create();
        using var certificate = authority.IssueNodeCertificate("elsewhere.example");
        await using var loopback = await Loopback.StartAsync(output, Loopback.DefaultOptions with { Certificate = certificate, TrustedRoots = [authority.Certificate] });

        var failure = await Assert.ThrowsAsync<ChannelConnectException>(() => loopback.Dialer.OpenChannelAsync(loopback.Address).WithTimeout());

        Assert.Contains("TLS handshake", failure.Message, StringComparison.Ordinal);
    }

    private static void AssertRejectedOnce(Loopback loopback)
    {
        Assert.Equal(1, loopback.Listener.Stats.ChannelsRejected);
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAccepted);
        Assert.Equal(1, loopback.Log.Count(RejectionLogEvent));
    }

    private static HttpClient H2cClient() => new(new SocketsHttpHandler { UseProxy = false });

    private static HttpRequestMessage Request(HttpMethod method, Loopback loopback, string path, string? serviceName)
    {
        var request = new HttpRequestMessage(method, $"http://127.0.0.1:{loopback.Listener.LocalEndPoint.Port}{path}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (serviceName is not null)
        {
            request.Headers.Add("x-service-name", serviceName);
        }

        return request;
    }

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=meshactors-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Kestrel needs the private key in a form SslStream can use; a PKCS#12 round trip gives it one on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }
}
