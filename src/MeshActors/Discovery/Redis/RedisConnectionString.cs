using StackExchange.Redis;

namespace MeshActors.Discovery.Redis;

/// <summary>Turns the one connection string a person types into client settings that never abort on a failed connect.</summary>
internal static class RedisConnectionString
{
    private const int DefaultPort = 6379;

    /// <summary>Accepts <c>host[:port]</c>, <c>redis://[[default]:password@]host[:port][/db]</c>, <c>rediss://...</c> (TLS) or a StackExchange.Redis configuration string.</summary>
    /// <exception cref="ArgumentException">The string cannot be understood; the message says what is wrong.</exception>
    public static ConfigurationOptions Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = connectionString.StartsWith("redis://", StringComparison.OrdinalIgnoreCase)
            || connectionString.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase)
            ? ParseUri(connectionString)
            : ParseConfiguration(connectionString);

        if (options.EndPoints.Count == 0)
            throw new ArgumentException($"Redis connection string '{Redact(connectionString)}' names no server.", nameof(connectionString));

        // A node must start, and keep serving the peers it knows, while Redis is down.
        options.AbortOnConnectFail = false;
        options.ClientName ??= "meshactors";
        return options;
    }

    /// <summary>The servers, without the password: safe for logs.</summary>
    public static string Describe(ConfigurationOptions options) =>
        string.Join(",", options.EndPoints.Select(Describe)) + (options.DefaultDatabase is { } db ? $"/{db}" : "");

    /// <summary>"host:port", without the address family a <see cref="System.Net.DnsEndPoint"/> would print.</summary>
    public static string Describe(System.Net.EndPoint endPoint) =>
        endPoint is System.Net.DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : endPoint.ToString()!;

    private static ConfigurationOptions ParseConfiguration(string connectionString)
    {
        try
        {
            return ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"Redis connection string '{Redact(connectionString)}' is not valid: {ex.Message}", nameof(connectionString), ex);
        }
    }

    private static ConfigurationOptions ParseUri(string connectionString)
    {
        if (!Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new ArgumentException($"Redis URL '{Redact(connectionString)}' is not a valid URL; expected redis://[:password@]host[:port][/db].", nameof(connectionString));
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
            throw new ArgumentException($"Redis URL '{Redact(connectionString)}' has a query or fragment; use a StackExchange.Redis configuration string (host:port,option=value) for further settings.", nameof(connectionString));

        var options = new ConfigurationOptions();
        options.EndPoints.Add(uri.DnsSafeHost, uri.Port > 0 ? uri.Port : DefaultPort);
        if (uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase))
        {
            options.Ssl = true;
            options.SslHost = uri.DnsSafeHost;
        }

        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            var user = colon < 0 ? uri.UserInfo : uri.UserInfo[..colon];
            if (colon < 0 || user is not ("" or "default"))
                throw new ArgumentException($"Redis URL '{Redact(connectionString)}' names a user; this client authenticates with a password only: redis://:password@host.", nameof(connectionString));
            options.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }

        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, out var database) || database < 0)
                throw new ArgumentException($"Redis URL '{Redact(connectionString)}' has path '/{path}'; the path can only be a database number.", nameof(connectionString));
            options.DefaultDatabase = database;
        }

        return options;
    }

    private static string Redact(string connectionString)
    {
        var at = connectionString.IndexOf('@');
        if (connectionString.Contains("://", StringComparison.Ordinal) && at > 0)
            return connectionString[..(connectionString.IndexOf("://", StringComparison.Ordinal) + 3)] + "***" + connectionString[at..];
        var password = connectionString.IndexOf("password=", StringComparison.OrdinalIgnoreCase);
        if (password < 0)
            return connectionString;
        var end = connectionString.IndexOf(',', password);
        return connectionString[..(password + 9)] + "***" + (end < 0 ? "" : connectionString[end..]);
    }
}
