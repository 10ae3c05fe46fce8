namespace MeshActors.Replication;

/// <summary>Sets <paramref name="Key"/> to <paramref name="Value"/> on a <see cref="ReplicatedDictionary{T}"/>'s actor; answered with <see cref="DictionaryWritten"/> once applied here and queued for the other replicas.</summary>
public sealed record DictionarySet<T>(string Key, T Value);
