namespace MeshActors.Actors.Internal;

/// <summary>A temporary reference waiting for one reply, which fails fast when its question cannot be delivered.</summary>
internal interface IPromiseActorRef
{
    void FailUndelivered(IActorRef recipient, object message, bool overflow);
}
