namespace MeshActors.Replication;

/// <summary>The answer to <see cref="DictionaryGet"/>.</summary>
public sealed record DictionaryValue<T>(string Key, bool Found, T? Value);
