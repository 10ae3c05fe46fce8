using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using MeshActors.Discovery;
using MeshActors.Transport;
using Microsoft.Extensions.Logging;

namespace MeshActors;

/// <summary>Everything a mesh node can be configured with; every default is defined once, in these option types.</summary>
/// <remarks>Binds from configuration section <c>Mesh</c> (see MeshActors.Hosting). Each component owns its own options record.</remarks>
public sealed record MeshOptions
{
    /// <summary>The node's name; nodes with the same name form a group (Marketrix <c>service_name</c>). Default "node".</summary>
    public string NodeName { get; init; } = "node";

    /// <summary>The node's id, a UUID v4; a new one when null (the default), so a restarted node is a new member.</summary>
    public string? NodeId { get; init; }

    /// <summary>Listener, dialer, TLS, HTTP/2 window and keep-alive settings.</summary>
    public Transport.TransportOptions Transport { get; init; } = new();

    /// <summary>Frame limits of the wire protocol.</summary>
    public Protocol.ProtocolOptions Protocol { get; init; } = new();

    /// <summary>Per-peer outbound queues, heartbeats, liveness and reconnection.</summary>
    public Peers.PeerOptions Peers { get; init; } = new();

    /// <summary>Which registry the node announces itself in, and how often.</summary>
    public Discovery.DiscoveryOptions Discovery { get; init; } = new();

    /// <summary>Topic, group and service settings.</summary>
    public Messaging.MessagingOptions Messaging { get; init; } = new();

    /// <summary>Serializer settings for typed payloads; add a source-generated context through <see cref="JsonSerializerOptions.TypeInfoResolverChain"/>. Default: web defaults (camelCase).</summary>
    public JsonSerializerOptions Json { get; init; } = JsonSerializerOptions.Web;

    /// <summary>Where the node logs; none when null.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Where the node's meter (<c>MeshActors</c>) comes from, e.g. the host's; the node creates its own when null.</summary>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> listing every setting that cannot work.</summary>
    public void Validate()
    {
        var errors = ValidationErrors();
        if (errors.Count > 0)
            throw new ArgumentException("Invalid mesh options: " + string.Join(" ", errors));
    }

    /// <summary>Every setting that cannot work, each as one sentence naming it; empty when all is well.</summary>
    public IReadOnlyList<string> ValidationErrors()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(NodeName))
            errors.Add("MeshOptions.NodeName is empty: give the node a name (nodes with the same name form a group).");
        // The registry actor refuses such a name when it builds this node's registration: refused here, the start
        // fails instead of leaving a node that runs without ever registering.
        else if (RegistryKey.NameProblem(NodeName) is { } nameProblem)
            errors.Add($"MeshOptions.NodeName '{NodeName}' {nameProblem}: it is part of the node's registry keys ({{prefix}}:service:{{name}}:{{id}}).");
        else if (!ChannelHeaders.IsFieldValue(NodeName))
            errors.Add($"MeshOptions.NodeName '{NodeName}' must be visible ASCII (spaces inside allowed): it travels in the x-service-name header of every channel.");
        if (NodeId is not null && !Guid.TryParseExact(NodeId, "D", out _))
            errors.Add($"MeshOptions.NodeId '{NodeId}' is not a UUID such as 0b6f4a52-3c2e-4d8a-9f61-2a7c9e1d5b30; leave it null for a fresh one.");
        if (Transport is null || Protocol is null || Peers is null || Discovery is null || Messaging is null || Json is null)
        {
            errors.Add("MeshOptions.Transport, Protocol, Peers, Discovery, Messaging and Json must not be null.");
            return errors;
        }

        if (string.IsNullOrWhiteSpace(Transport.ListenHost))
            errors.Add("MeshOptions.Transport.ListenHost is empty: use an address such as 127.0.0.1 or 0.0.0.0.");
        // Checked again by the registry actor when it builds this node's registration: refused here, the start fails
        // with the other option errors instead of leaving a node that runs without ever registering.
        if (Transport.AdvertisedHost is { } advertised && RegistrationCodec.HostProblem(advertised) is { } problem)
            errors.Add($"MeshOptions.Transport.AdvertisedHost '{advertised}' cannot be dialed by other nodes ({problem}): give a host name or an IP address, or leave it null to advertise ListenHost.");
        if (Transport.ListenPort is < 0 or > 65535)
            errors.Add($"MeshOptions.Transport.ListenPort must be 0 (any free port) to 65535, not {Transport.ListenPort}.");

        TransportErrors(Transport, errors);

        // Each setting's range is checked when it is set; these are combinations that cannot work. An idle channel pings
        // after a heartbeat interval of silence, noticed on a timer of half an interval, so an idle peer's pings arrive
        // up to 1.5 intervals apart: a shorter liveness timeout closes healthy idle channels as hung, each redialed one
        // again (two idle nodes at 1.5 intervals: 4 closed in 8 s; at twice: none).
        if (Peers.LivenessTimeout < Peers.HeartbeatInterval * 2)
            errors.Add($"MeshOptions.Peers.LivenessTimeout ({Peers.LivenessTimeout}) must be at least twice Peers.HeartbeatInterval ({Peers.HeartbeatInterval}): an idle peer's pings arrive up to 1.5 heartbeat intervals apart, so a shorter timeout closes healthy idle channels as hung, over and over.");
        if (Peers.ReconnectMinBackoff > Peers.ReconnectMaxBackoff)
            errors.Add($"MeshOptions.Peers.ReconnectMinBackoff ({Peers.ReconnectMinBackoff}) must not be above Peers.ReconnectMaxBackoff ({Peers.ReconnectMaxBackoff}): redials start at the first delay and double up to the second.");
        errors.AddRange(Discovery.ValidationErrors());
        errors.AddRange(Messaging.ValidationErrors());
        return errors;

        static void TransportErrors(Transport.TransportOptions transport, List<string> errors)
        {
            // What the listener, Kestrel and the dialer refuse or cannot use, refused here with the rest rather than at start.
            if (transport.Http2ConnectionWindowSize <= 2L * transport.Http2StreamWindowSize || transport.Http2StreamWindowSize < 65535)
                errors.Add($"MeshOptions.Transport.Http2ConnectionWindowSize ({transport.Http2ConnectionWindowSize}) must exceed twice Http2StreamWindowSize ({transport.Http2StreamWindowSize}, at least 65535): one channel whose reader stalls would starve every other channel on its connection.");
            if (transport.Http2MaxFrameSize is < 16384 or > 16777215)
                errors.Add($"MeshOptions.Transport.Http2MaxFrameSize must be 16384 to 16777215 (RFC 9113 6.5.2), not {transport.Http2MaxFrameSize}.");
            if (transport.KeepAlivePingDelay < TimeSpan.FromSeconds(1) || transport.KeepAlivePingTimeout < TimeSpan.FromSeconds(1))
                errors.Add($"MeshOptions.Transport.KeepAlivePingDelay ({transport.KeepAlivePingDelay}) and KeepAlivePingTimeout ({transport.KeepAlivePingTimeout}) must be at least 1 s (Kestrel's minimum).");
            if (transport.MaxChannelsPerConnection < 1)
                errors.Add($"MeshOptions.Transport.MaxChannelsPerConnection must be at least 1, not {transport.MaxChannelsPerConnection}.");
            if (!TimerLimit.Fits(transport.ConnectTimeout))
                errors.Add($"MeshOptions.Transport.ConnectTimeout must be positive and at most {TimerLimit.Max}, not {transport.ConnectTimeout}.");
            if (!TimerLimit.Fits(transport.ShutdownTimeout))
                errors.Add($"MeshOptions.Transport.ShutdownTimeout must be positive and at most {TimerLimit.Max}, not {transport.ShutdownTimeout}.");
            if (transport.Certificate is { } certificate && CertificateProblem(certificate) is { } problem)
                errors.Add($"MeshOptions.Transport.Certificate ({certificate.Subject}) cannot serve TLS: {problem}.");
            if (transport.Certificate is null && transport.RemoteCertificateValidation is not null)
                errors.Add("MeshOptions.Transport.RemoteCertificateValidation is set without a Certificate: the node would speak cleartext, and the check would never run. Set both, or neither.");
            if (transport.Certificate is null && transport.CertificateChain is not null)
                errors.Add("MeshOptions.Transport.CertificateChain is set without a Certificate: the node would speak cleartext. Set both, or neither.");
            if (transport.Certificate is null && transport.TrustedRoots is not null)
                errors.Add("MeshOptions.Transport.TrustedRoots is set without a Certificate: the node would speak cleartext, and no certificate would be checked. Set both, or neither.");
            if (transport.TrustedRoots is { Count: 0 })
                errors.Add("MeshOptions.Transport.TrustedRoots is empty: the dialer would trust no listener. Leave it null to trust the system's store.");
        }

        // What Kestrel refuses only when it binds: a server certificate must hold its private key and, when it says
        // what it is for, name server authentication.
        static string? CertificateProblem(X509Certificate2 certificate)
        {
            const string serverAuthentication = "1.3.6.1.5.5.7.3.1";
            if (!certificate.HasPrivateKey)
                return "it has no private key";
            var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToList();
            return usages.Count > 0 && !usages.Any(usage => usage.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value == serverAuthentication))
                ? "its enhanced key usage does not include server authentication (1.3.6.1.5.5.7.3.1)"
                : null;
        }
    }
}
