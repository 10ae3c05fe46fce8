namespace MeshActors.Replication;

/// <summary>What happened to a key.</summary>
public enum DictionaryChangeKind
{
    /// <summary>The key was set (added or changed).</summary>
    Set,

    /// <summary>The key was removed.</summary>
    Removed,
}
