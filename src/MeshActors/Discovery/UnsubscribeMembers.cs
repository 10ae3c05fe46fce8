using MeshActors.Actors;

namespace MeshActors.Discovery;

/// <summary>Stops the <see cref="MemberEvent"/>s that <see cref="SubscribeMembers"/> started.</summary>
public sealed record UnsubscribeMembers(IActorRef Subscriber);
