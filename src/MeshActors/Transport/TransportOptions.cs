using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace MeshActors.Transport;

/// <summary>Listener, dialer, TLS, HTTP/2 window and keep-alive settings of the data plane; framing is in <see cref="Protocol.ProtocolOptions"/>, outbound queues and heartbeats in <see cref="Peers.PeerOptions"/>.</summary>
public sealed record TransportOptions
{
    /// <summary>Address the listener binds to: an IP address or <c>localhost</c>. Default 127.0.0.1.</summary>
    public string ListenHost { get; init; } = "127.0.0.1";

    /// <summary>Port the listener binds to; 0 (the default) picks a free one.</summary>
    public int ListenPort { get; init; }

    /// <summary>Host name other nodes are told to dial; <see cref="ListenHost"/> when null.</summary>
    public string? AdvertisedHost { get; init; }

    /// <summary>
    /// When set, the listener serves h2 over TLS with this certificate and the dialer dials https; when null (the
    /// default), both speak h2c with prior knowledge, as the Marketrix demos do. A mesh is all-TLS or all-cleartext.
    /// </summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>
    /// The intermediate certificates the listener sends after <see cref="Certificate"/>, so that a dialer trusting only
    /// the root (<see cref="TrustedRoots"/>) can build the chain; <see cref="MeshCertificates.LoadChain"/> reads them
    /// from a full-chain file. Null (the default) sends the certificate alone.
    /// </summary>
    public X509Certificate2Collection? CertificateChain { get; init; }

    /// <summary>
    /// How the dialer checks a listener's certificate under TLS; null (the default) accepts a certificate whose chain
    /// ends at a trusted root (<see cref="TrustedRoots"/>, else the system's store) and that names the dialed host.
    /// </summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidation { get; init; }

    /// <summary>
    /// The roots the dialer trusts under TLS instead of the system's store: a private authority's certificate, or the
    /// nodes' own self-signed certificates. The listener's certificate must still name the dialed host. Null (the
    /// default) trusts the system's store. <see cref="MeshCertificates.LoadTrustedRoots"/> reads them from a PEM file.
    /// </summary>
    public X509Certificate2Collection? TrustedRoots { get; init; }

    /// <summary>
    /// HTTP/2 connection-level receive window of the listener. Default 32 MB. Kestrel returns connection credit only
    /// once more than half of this window has been read by the application, so it must exceed twice
    /// <see cref="Http2StreamWindowSize"/> times the number of channels whose readers may stall without starving the
    /// others on the connection: 32 MB over 4 MB lets three stall (the listener refuses a window of twice the stream
    /// window or less). It is also the most a listener buffers per connection for readers that do not keep up.
    /// </summary>
    public int Http2ConnectionWindowSize { get; init; } = 32 * 1024 * 1024;

    /// <summary>
    /// HTTP/2 per-stream receive window, on both the listener and the dialer. Default 4 MB: on loopback 1-8 MB all
    /// measured alike and the protocol's 64 KB default halved dialer-to-listener throughput; 4 MB keeps a 1 GB/s
    /// stream busy across a 4 ms round trip, and is the most one channel buffers for a reader that stalls.
    /// </summary>
    public int Http2StreamWindowSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Largest HTTP/2 DATA frame the listener accepts (2^14 to 2^24-1); the dialer sends frames this large. Default
    /// 16 KB, the protocol's default: 256 KB and 1 MB measured no faster on loopback.
    /// </summary>
    public int Http2MaxFrameSize { get; init; } = 16 * 1024;

    /// <summary>
    /// How long a connection may receive nothing before a side sends an HTTP/2 PING (at least 1 s, Kestrel's floor).
    /// Default 1 s, the floor. Kestrel checks its pings on a 1 s heartbeat, so with <see cref="KeepAlivePingTimeout"/>
    /// at 1 s too the listener notices a hung peer after 3-5 s; the dialer checks four times per delay or timeout
    /// (whichever is shorter) and notices after 2-2.5 s. A crashed peer's sockets are closed by its kernel and noticed
    /// at once, without a ping.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a PING may stay unanswered before the connection is closed (at least 1 s). Default 1 s, the floor, to
    /// notice a hung peer within ~5 s: Kestrel's heartbeat adds up to a second, and any frame counts as an answer, so a
    /// busy connection is never cut by a late PING ACK.
    /// </summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long opening a channel may take, from the TCP connect to the listener's 200 (the listener likewise waits this
    /// long for a new connection's first bytes to tell HTTP/2 from HTTP/1.x). Default 3 s: it covers one SYN
    /// retransmission (1 s) and a TLS handshake on a slow link, and leaves the retry pace to the caller's backoff.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Channels (HTTP/2 streams) one connection to the listener carries at once. Default 100, Kestrel's default. This
    /// node's dialer opens a connection per channel; other clients (Marketrix peers, unary callers) may share one.
    /// </summary>
    public int MaxChannelsPerConnection { get; init; } = 100;

    /// <summary>
    /// How long stopping the listener waits for channel handlers to return after their channels were aborted, and for
    /// unary calls to send the answers they owe, before it closes the connections anyway. Default 5 s: a handler only
    /// has to notice its channel's end and return.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
