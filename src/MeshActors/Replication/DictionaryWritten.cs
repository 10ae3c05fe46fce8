namespace MeshActors.Replication;

/// <summary>The answer to <see cref="DictionarySet{T}"/> and <see cref="DictionaryRemove"/>.</summary>
/// <param name="Key">The key written.</param>
/// <param name="Changed">False for a remove of a key that was not there (nothing was written).</param>
public sealed record DictionaryWritten(string Key, bool Changed);
