namespace MeshActors.Messaging;

/// <summary>The answer to hosting a service: local requests reach it now, and it is being announced to the other nodes.</summary>
public sealed record ServiceHosted(string Service);
