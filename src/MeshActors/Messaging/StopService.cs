namespace MeshActors.Messaging;

/// <summary>Asks the services actor to withdraw <paramref name="Service"/> from this node; requests in flight still get their answers.</summary>
public sealed record StopService(string Service);
