namespace MeshActors.Replication;

/// <summary>How two version vectors relate: what a replica had seen when it wrote, against what another had.</summary>
internal enum Causality
{
    /// <summary>Both saw exactly the same writes.</summary>
    Equal,

    /// <summary>The first saw everything the second saw, and more.</summary>
    After,

    /// <summary>The second saw everything the first saw, and more.</summary>
    Before,

    /// <summary>Each saw a write the other did not: the writes were concurrent.</summary>
    Concurrent,
}
