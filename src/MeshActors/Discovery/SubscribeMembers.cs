using MeshActors.Actors;

namespace MeshActors.Discovery;

/// <summary>Asks the <see cref="RegistryActor"/> to send <paramref name="Subscriber"/> the <see cref="CurrentMembers"/> at once, then every <see cref="MemberEvent"/> until it unsubscribes or stops.</summary>
public sealed record SubscribeMembers(IActorRef Subscriber);
