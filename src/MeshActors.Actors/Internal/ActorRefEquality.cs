namespace MeshActors.Actors.Internal;

/// <summary>Akka.NET's reference equality (same path, same uid), shared by every kernel reference.</summary>
internal static class ActorRefEquality
{
    public static bool Equals(IActorRef self, IActorRef? other) =>
        ReferenceEquals(self, other)
        || (other is not null && self.Path.Uid == other.Path.Uid && self.Path.Equals(other.Path));

    public static string ToString(IActorRef actor) => $"[{actor.Path}#{actor.Path.Uid}]";
}
