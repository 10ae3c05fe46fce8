namespace MeshActors.Actors;

/// <summary>
/// How a <see cref="BackoffSupervisor"/> restarts its child: after exponentially growing, jittered delays between
/// <see cref="MinBackoff"/> and <see cref="MaxBackoff"/>, and the delay starts over once the child has run for
/// <see cref="ResetBackoffAfter"/>. Create with <see cref="OnFailure"/> or <see cref="OnStop"/>.
/// </summary>
public sealed record BackoffOptions
{
    private BackoffOptions(Props childProps, string childName, TimeSpan minBackoff, TimeSpan maxBackoff, double randomFactor, int maxNrOfRetries, bool restartOnStop)
    {
        ArgumentNullException.ThrowIfNull(childProps);
        ArgumentException.ThrowIfNullOrEmpty(childName);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(minBackoff, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBackoff, minBackoff);
        if (randomFactor is < 0 or > 1 || double.IsNaN(randomFactor))
        {
            throw new ArgumentOutOfRangeException(nameof(randomFactor), randomFactor, "The random factor is between 0 and 1.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxNrOfRetries, -1);
        ChildProps = childProps;
        ChildName = childName;
        MinBackoff = minBackoff;
        MaxBackoff = maxBackoff;
        RandomFactor = randomFactor;
        MaxNrOfRetries = maxNrOfRetries;
        RestartOnStop = restartOnStop;
        ResetBackoffAfter = minBackoff;
    }

    /// <summary>The child's props.</summary>
    public Props ChildProps { get; }

    /// <summary>The child's name (the same for every incarnation).</summary>
    public string ChildName { get; }

    /// <summary>The delay before the first restart.</summary>
    public TimeSpan MinBackoff { get; }

    /// <summary>The cap of the doubling delay (before jitter).</summary>
    public TimeSpan MaxBackoff { get; }

    /// <summary>Jitter: each delay is multiplied by a random factor in [1, 1 + RandomFactor], so that many children do not restart in step.</summary>
    public double RandomFactor { get; }

    /// <summary>How many restarts in a row before the supervisor gives up and stops (-1: no limit).</summary>
    public int MaxNrOfRetries { get; }

    /// <summary>Whether a child that stops normally is restarted too (<see cref="OnStop"/>); otherwise the supervisor stops with it.</summary>
    public bool RestartOnStop { get; }

    /// <summary>How long a child must run without failing for the delay to start over. Default: <see cref="MinBackoff"/>, as Akka.NET.</summary>
    public TimeSpan ResetBackoffAfter
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            field = value;
        }
    }

    /// <summary>
    /// Maps a child's exception to a directive. Default: restart (with backoff) on any exception, including failures in
    /// the constructor or <c>PreStart</c> (Akka.NET's default decider would stop the child there; a connection that
    /// cannot start is exactly what a backoff supervisor is for). Stop stops the child and the supervisor with it.
    /// </summary>
    public Func<Exception, Directive> Decider
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            field = value;
        }
    } = static _ => Directive.Restart;

    /// <summary>Restarts the child with backoff when it fails; when it stops by itself, the supervisor stops too.</summary>
    public static BackoffOptions OnFailure(Props childProps, string childName, TimeSpan minBackoff, TimeSpan maxBackoff, double randomFactor, int maxNrOfRetries = -1) =>
        new(childProps, childName, minBackoff, maxBackoff, randomFactor, maxNrOfRetries, restartOnStop: false);

    /// <summary>Restarts the child with backoff whenever it stops, by failure or by itself.</summary>
    public static BackoffOptions OnStop(Props childProps, string childName, TimeSpan minBackoff, TimeSpan maxBackoff, double randomFactor, int maxNrOfRetries = -1) =>
        new(childProps, childName, minBackoff, maxBackoff, randomFactor, maxNrOfRetries, restartOnStop: true);
}
