using MeshActors.Actors;

namespace MeshActors;

/// <summary>The parent of one node's mesh actors (<c>/system/mesh</c>): creates them on request, so they share one subtree and stop together.</summary>
internal sealed class MeshGuardianActor : ReceiveActor
{
    public MeshGuardianActor() =>
        Receive<Spawn>(spawn => Sender.Tell(Context.ActorOf(spawn.Props, spawn.Name)));

    public static Props Props() => Actors.Props.Create(() => new MeshGuardianActor());

    /// <summary>Creates a child; answered with its <see cref="IActorRef"/>.</summary>
    public sealed record Spawn(Props Props, string Name);
}
