using MeshActors.Transport;

namespace MeshActors.Peers;

/// <summary>What drains an <see cref="OutboundQueue"/>: a channel's writer, woken through its <see cref="Signal"/>.</summary>
internal interface IOutboundConsumer
{
    /// <summary>Woken when an envelope is queued or the consumer is attached.</summary>
    WakeSignal Signal { get; }
}
