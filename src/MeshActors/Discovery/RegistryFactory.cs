using MeshActors.Discovery.Local;
using MeshActors.Discovery.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace MeshActors.Discovery;

/// <summary>Makes the registry backend that <see cref="DiscoveryOptions.Registry"/> names.</summary>
public static class RegistryFactory
{
    private const string Local = "local";

    /// <summary>
    /// Returns the local directory registry for "local" or "local:{root}", otherwise a Redis registry; neither waits
    /// for its backend, so a node starts while Redis is down.
    /// </summary>
    /// <exception cref="ArgumentException">The options or the connection string are not valid; the message says why.</exception>
    public static IRegistry Create(DiscoveryOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (root, redis) = Parse(options.Registry);
        return root is not null
            ? new LocalDirectoryRegistry(options, root, Logger<LocalDirectoryRegistry>(loggerFactory))
            : new RedisRegistry(options, redis!, Logger<RedisRegistry>(loggerFactory));
    }

    /// <summary>The local directory, or else the Redis server, that <paramref name="registry"/> names.</summary>
    /// <exception cref="ArgumentException">It names neither clearly; the message says why.</exception>
    internal static (string? LocalRoot, ConfigurationOptions? Redis) Parse(string registry)
    {
        registry = registry.Trim();
        if (registry.Equals(Local, StringComparison.OrdinalIgnoreCase))
            return (DiscoveryOptions.LocalDirectory, null);
        if (!registry.StartsWith(Local + ":", StringComparison.OrdinalIgnoreCase))
            return (null, RedisConnectionString.Parse(registry));
        var root = registry[(Local.Length + 1)..];
        return root.Length > 0
            ? (root, null)
            : throw new ArgumentException("DiscoveryOptions.Registry 'local:' names no directory; use \"local\" or \"local:/some/dir\".", nameof(registry));
    }

    private static ILogger Logger<T>(ILoggerFactory? loggerFactory) =>
        (ILogger?)loggerFactory?.CreateLogger<T>() ?? NullLogger.Instance;
}
