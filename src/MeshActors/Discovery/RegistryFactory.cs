using MeshActors.Discovery.Local;
using MeshActors.Discovery.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

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
        var registry = options.Registry.Trim();
        if (registry.Equals(Local, StringComparison.OrdinalIgnoreCase))
            return new LocalDirectoryRegistry(options, DiscoveryOptions.LocalDirectory, Logger<LocalDirectoryRegistry>(loggerFactory));
        if (registry.StartsWith(Local + ":", StringComparison.OrdinalIgnoreCase))
        {
            var root = registry[(Local.Length + 1)..];
            if (root.Length == 0)
                throw new ArgumentException("DiscoveryOptions.Registry 'local:' names no directory; use \"local\" or \"local:/some/dir\".", nameof(options));
            return new LocalDirectoryRegistry(options, root, Logger<LocalDirectoryRegistry>(loggerFactory));
        }

        return new RedisRegistry(options, RedisConnectionString.Parse(registry), Logger<RedisRegistry>(loggerFactory));
    }

    private static ILogger Logger<T>(ILoggerFactory? loggerFactory) =>
        (ILogger?)loggerFactory?.CreateLogger<T>() ?? NullLogger.Instance;
}
