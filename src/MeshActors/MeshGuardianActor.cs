using MeshActors.Actors;

namespace MeshActors;

/// <summary>The parent of one node's mesh actors (<c>/system/mesh</c>): creates them on request, so they share one subtree and stop together.</summary>
internal sealed class MeshGuardianActor : ReceiveActor
{
    public MeshGuardianActor() =>
        Receive<Spawn>(spawn => Sender.Tell(Context.ActorOf(spawn.Props, spawn.Name)));

    public static Props Props() => Actors.Props.Create(() => new MeshGuardianActor());

    /// <summary>
    /// A mesh actor that fails on a message (a bug, or a malformed message from an application actor) is resumed:
    /// the failure is logged and the message skipped. A restart would start it empty, forgetting the members, routes,
    /// subscribers and hosted services that the rest of the node and its peers go on relying on.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(static exception =>
        Actors.SupervisorStrategy.DefaultDecider(exception) == Directive.Stop ? Directive.Stop : Directive.Resume);

    /// <summary>Creates a child; answered with its <see cref="IActorRef"/>.</summary>
    public sealed record Spawn(Props Props, string Name);
}
