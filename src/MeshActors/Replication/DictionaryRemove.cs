namespace MeshActors.Replication;

/// <summary>Removes <paramref name="Key"/> (a tombstone that replicates); answered with <see cref="DictionaryWritten"/>.</summary>
public sealed record DictionaryRemove(string Key);
