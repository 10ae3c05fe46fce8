namespace MeshActors.Transport;

/// <summary>Listener, dialer, framing, outbound-queue and liveness settings of the HTTP/2 data plane.</summary>
public sealed record TransportOptions
{
    /// <summary>Address the listener binds to. Default 127.0.0.1.</summary>
    public string ListenHost { get; init; } = "127.0.0.1";

    /// <summary>Port the listener binds to; 0 (the default) picks a free one.</summary>
    public int ListenPort { get; init; }

    /// <summary>Host name other nodes are told to dial; <see cref="ListenHost"/> when null.</summary>
    public string? AdvertisedHost { get; init; }
}
