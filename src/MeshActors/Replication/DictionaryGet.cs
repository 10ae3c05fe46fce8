namespace MeshActors.Replication;

/// <summary>Asks for the value of <paramref name="Key"/>; answered with <see cref="DictionaryValue{T}"/>.</summary>
public sealed record DictionaryGet(string Key);
