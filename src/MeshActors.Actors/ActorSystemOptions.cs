using Microsoft.Extensions.Logging;

namespace MeshActors.Actors;

/// <summary>The settings of an <see cref="ActorSystem"/>; every kernel default is defined here.</summary>
public sealed record ActorSystemOptions
{
    /// <summary>Where the kernel and its actors log. Default: null, nothing is logged.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// How long an <c>Ask</c> without an explicit timeout waits for its reply. Default: 5 s, as Akka.NET and Proto.Actor,
    /// long enough for a loaded machine yet short enough for a caller to notice a lost reply.
    /// </summary>
    public TimeSpan AskTimeout
    {
        get;
        init
        {
            if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(AskTimeout), value, "The ask timeout must be positive or infinite.");
            }

            field = value;
        }
    } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many user messages an actor processes per turn on a thread before it yields the thread to other actors.
    /// Default: 100, in the range Akka.NET and Proto.Actor use (30-300): large enough to amortize scheduling,
    /// small enough to keep latency fair between busy actors.
    /// </summary>
    public int Throughput
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Throughput));
            field = value;
        }
    } = 100;

    /// <summary>
    /// How many dead letters are logged (at Information) before the log falls silent; all of them are still counted
    /// and published as <see cref="DeadLetter"/>. Default: 10, as Akka.NET: enough to notice, not enough to flood.
    /// </summary>
    public int LogDeadLetters
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(LogDeadLetters));
            field = value;
        }
    } = 10;
}
