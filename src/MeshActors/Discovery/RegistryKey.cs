namespace MeshActors.Discovery;

/// <summary>The Marketrix keyspace: <c>{prefix}:service:{service_name}:{node_id}</c>, its SCAN pattern and the events channel.</summary>
/// <remarks>
/// A name containing ':' would make <c>{prefix}:service:{name}:*</c> match other groups' keys (mesh-link's bug), so
/// this node refuses to register one; keys written by others are parsed from the right, where the node id (a UUID,
/// never containing ':') is unambiguous.
/// </remarks>
internal static class RegistryKey
{
    public static string Format(string prefix, string name, string id) => $"{prefix}:service:{name}:{id}";

    public static string Pattern(string prefix) => $"{prefix}:service:*";

    public static string EventsChannel(string prefix) => $"{prefix}:events";

    /// <summary>Splits a key that matched <see cref="Pattern"/> into name and id, or says why it is not one of ours.</summary>
    public static bool TryParse(string prefix, string key, out string name, out string id, out string error)
    {
        name = id = "";
        var head = $"{prefix}:service:";
        if (!key.StartsWith(head, StringComparison.Ordinal))
        {
            error = $"key does not start with '{head}'";
            return false;
        }

        var rest = key.AsSpan(head.Length);
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !Guid.TryParseExact(rest[(colon + 1)..], "D", out _))
        {
            error = "key does not end with ':{service_name}:{node id}' (a UUID)";
            return false;
        }

        name = rest[..colon].ToString();
        id = rest[(colon + 1)..].ToString();
        error = "";
        return true;
    }

    /// <summary>Throws unless <paramref name="prefix"/> can head keys, a SCAN pattern and a directory name unchanged.</summary>
    public static void ValidatePrefix(string prefix)
    {
        if (string.IsNullOrEmpty(prefix) || prefix.Length > 100
            || !prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')
            || prefix is "." or "..")
        {
            throw new ArgumentException(
                $"Key prefix '{prefix}' must be 1-100 characters among letters, digits, '-', '_', '.' and ':' (it heads Redis keys, a SCAN pattern and a directory name).",
                nameof(DiscoveryOptions.KeyPrefix));
        }
    }

    /// <summary>The reason a node name cannot be registered, or null when it can.</summary>
    public static string? NameProblem(string name) =>
        name.Length is 0 or > 200 ? "must be 1-200 characters long"
        : name.IndexOfAny([':', '*', '?', '[', ']', '/', '\\']) >= 0 ? "must not contain ':', '*', '?', '[', ']', '/' or '\\' (they would corrupt the keyspace or its SCAN pattern)"
        : name.Any(char.IsControl) ? "must not contain control characters"
        : null;
}
