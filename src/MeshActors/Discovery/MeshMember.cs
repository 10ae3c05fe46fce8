using System.Text.Json;

namespace MeshActors.Discovery;

/// <summary>A node of the mesh as its registration describes it.</summary>
/// <param name="Id">The node id, a UUID v4 (Marketrix <c>id</c>).</param>
/// <param name="Name">The node's name; nodes with the same name form a group (Marketrix <c>service_name</c>).</param>
/// <param name="Host">Where its HTTP/2 listener is reached.</param>
/// <param name="Port">The listener's port.</param>
/// <remarks>Two members are equal when every field is, collections and metadata compared by content.</remarks>
public sealed record MeshMember(string Id, string Name, string Host, int Port)
{
    /// <summary>The mesh protocol version it speaks; 0 for a peer that registered only the Marketrix fields.</summary>
    public int ProtocolVersion { get; init; }

    /// <summary>Topics it subscribes to, as last announced.</summary>
    public IReadOnlyList<string> Topics { get; init; } = [];

    /// <summary>Services it hosts, as last announced.</summary>
    public IReadOnlyList<string> Services { get; init; } = [];

    /// <summary>Free-form tags from its registration.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>When it started, if it said so.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>The registration's <c>metadata</c> object as stored, for fields this type does not model.</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>"host:port".</summary>
    public string Address => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <inheritdoc />
    public bool Equals(MeshMember? other) =>
        other is not null
        && Id == other.Id && Name == other.Name && Host == other.Host && Port == other.Port
        && ProtocolVersion == other.ProtocolVersion && StartedAt == other.StartedAt
        && Topics.SequenceEqual(other.Topics) && Services.SequenceEqual(other.Services)
        && Tags.Count == other.Tags.Count && Tags.All(tag => other.Tags.TryGetValue(tag.Key, out var value) && value == tag.Value)
        && (Metadata, other.Metadata) switch
        {
            (null, null) => true,
            ({ } mine, { } theirs) => JsonElement.DeepEquals(mine, theirs),
            _ => false,
        };

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Id, Name, Host, Port);
}
