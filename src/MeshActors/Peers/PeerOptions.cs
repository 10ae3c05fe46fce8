namespace MeshActors.Peers;

/// <summary>Per-peer queues, liveness and reconnection settings.</summary>
public sealed record PeerOptions
{
    /// <summary>Bytes queued for one peer before the overflow policy applies. Default 64 MB.</summary>
    public long OutboundQueueCapBytes { get; init; } = 64L * 1024 * 1024;
}
