namespace MeshActors.Actors.Internal;

/// <summary>Marks a user-queue message that the cell handles itself before (or instead of) the actor's behavior.</summary>
internal interface IAutoReceivedMessage;
