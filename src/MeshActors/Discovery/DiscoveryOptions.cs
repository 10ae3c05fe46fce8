namespace MeshActors.Discovery;

/// <summary>Which registry a node announces itself in, and its timing.</summary>
public sealed record DiscoveryOptions
{
    /// <summary>
    /// "local" (the default: a shared directory on this machine, see <see cref="LocalDirectory"/>), "local:/some/dir"
    /// (the same under another root), or a Redis connection string: <c>localhost:6379</c>,
    /// <c>redis://[:password@]host[:port][/db]</c>, <c>rediss://...</c> (TLS), or a StackExchange.Redis configuration
    /// string such as <c>host:6379,password=secret</c>. Redis connections never abort on a failed connect, so a node
    /// starts while Redis is down.
    /// </summary>
    public string Registry { get; init; } = "local";

    /// <summary>How often the node refreshes its registration and reconciles membership. Default 2 s (Marketrix refreshes about every 2 s).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a registration lives without a heartbeat; whole seconds, since Redis <c>EX</c> counts seconds. Default 6 s (Marketrix recommends 5-10 s: three heartbeats may be lost before a live node looks dead).</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Prefix of every key (<c>{prefix}:service:{name}:{id}</c>) and of the events channel, so several meshes can share one Redis or one directory. Default "mesh" (the Marketrix keyspace).</summary>
    public string KeyPrefix { get; init; } = "mesh";

    /// <summary>Longest a single registry call may take before it fails with <see cref="RegistryUnavailableException"/>. Default 1 s: well under the heartbeat, so a stuck Redis never delays the next heartbeat.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest registration value accepted, in bytes; larger ones are skipped as garbage. Default 64 KB: a real registration is a few hundred bytes, and a node must not be made to parse megabytes per heartbeat.</summary>
    public int MaxRegistrationBytes { get; init; } = 64 * 1024;

    /// <summary>First wait before the registry actor retries a failed registry call; it doubles up to <see cref="RetryBackoffMax"/>. Default 250 ms: a blip heals fast without hammering a Redis that is down.</summary>
    public TimeSpan RetryBackoffMin { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait between the registry actor's retries. Default null: the heartbeat interval, so a returning Redis is used within one heartbeat.</summary>
    public TimeSpan? RetryBackoffMax { get; init; }

    /// <summary>The root directory of the local registry when <see cref="Registry"/> is "local": <c>{temp}/meshactors</c>; the registry itself lives in <c>{root}/{KeyPrefix}</c>.</summary>
    public static string LocalDirectory => Path.Combine(Path.GetTempPath(), "meshactors");

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that cannot work.</summary>
    public void Validate()
    {
        if (Problems().FirstOrDefault() is { Message: not null } first)
            throw new ArgumentException(first.Message, first.Setting);
    }

    /// <summary>Every setting that cannot work, a sentence each; empty when the options can work.</summary>
    public IReadOnlyList<string> ValidationErrors() => Problems().Select(problem => problem.Message).ToList();

    private IEnumerable<(string Message, string Setting)> Problems()
    {
        if (string.IsNullOrWhiteSpace(Registry))
            yield return ("DiscoveryOptions.Registry is empty: use \"local\" or a Redis connection string such as \"localhost:6379\".", nameof(Registry));
        else if (Refusal(() => RegistryFactory.Parse(Registry)) is { } invalid) // refused with the other options, not only when the node starts
            yield return ($"DiscoveryOptions.Registry is not valid: {invalid}", nameof(Registry));
        if (!TimerLimit.Fits(HeartbeatInterval))
            yield return ($"DiscoveryOptions.HeartbeatInterval must be positive and at most {TimerLimit.Max} (a .NET timer's limit), not {HeartbeatInterval}.", nameof(HeartbeatInterval));
        if (Ttl < TimeSpan.FromSeconds(1) || Ttl.Ticks % TimeSpan.TicksPerSecond != 0 || Ttl > TimerLimit.Max)
            yield return ($"DiscoveryOptions.Ttl must be a whole number of seconds, at least 1 (Redis EX counts seconds) and at most {TimerLimit.Max}, not {Ttl}.", nameof(Ttl));
        else if (Ttl <= HeartbeatInterval)
            yield return ($"DiscoveryOptions.Ttl ({Ttl}) must be longer than HeartbeatInterval ({HeartbeatInterval}), or registrations expire between heartbeats.", nameof(Ttl));
        if (!TimerLimit.Fits(CommandTimeout))
            yield return ($"DiscoveryOptions.CommandTimeout must be positive and at most {TimerLimit.Max} (a .NET timer's limit), not {CommandTimeout}.", nameof(CommandTimeout));
        if (MaxRegistrationBytes < 1024)
            yield return ($"DiscoveryOptions.MaxRegistrationBytes must be at least 1024, not {MaxRegistrationBytes}.", nameof(MaxRegistrationBytes));
        if (!TimerLimit.Fits(RetryBackoffMin) || RetryBackoffMax < RetryBackoffMin || RetryBackoffMax > TimerLimit.Max)
            yield return ($"DiscoveryOptions.RetryBackoffMin ({RetryBackoffMin}) must be positive and not above RetryBackoffMax ({RetryBackoffMax}), and both at most {TimerLimit.Max}.", nameof(RetryBackoffMin));
        if (Refusal(() => RegistryKey.ValidatePrefix(KeyPrefix)) is { } prefix)
            yield return (prefix, nameof(KeyPrefix));
    }

    // The message of the ArgumentException a check throws, without its "(Parameter ...)" suffix; null when it passes.
    private static string? Refusal(Action check)
    {
        try
        {
            check();
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message.Split(" (Parameter")[0];
        }
    }
}
