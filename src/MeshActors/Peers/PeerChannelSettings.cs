using MeshActors.Protocol;
using MeshActors.Transport;
using Microsoft.Extensions.Logging;

namespace MeshActors.Peers;

/// <summary>What every channel of one node shares: its hello, the options, where envelopes go, the dialer and the totals.</summary>
internal sealed record PeerChannelSettings(
    Envelope.Hello SelfHello,
    PeerOptions Options,
    ProtocolOptions Protocol,
    IPeerEnvelopeHandler Handler,
    MeshDialer Dialer,
    PeerStats Totals,
    ILogger Logger);
