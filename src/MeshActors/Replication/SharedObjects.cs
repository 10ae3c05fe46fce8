namespace MeshActors.Replication;

/// <summary>The reserved names of the dictionaries that hold shared objects and counters (docs/protocol.md, section 14.1).</summary>
public static class SharedObjects
{
    /// <summary>The prefix of the dictionaries that hold shared objects.</summary>
    public const string ObjectPrefix = "$object/";

    /// <summary>The prefix of the dictionaries that hold shared counters.</summary>
    public const string CounterPrefix = "$counter/";
}
