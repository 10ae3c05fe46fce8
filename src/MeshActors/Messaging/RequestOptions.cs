namespace MeshActors.Messaging;

/// <summary>Per-call settings of a service request.</summary>
public sealed record RequestOptions
{
    /// <summary>The settings used when a call gives none.</summary>
    public static RequestOptions Default { get; } = new();

    /// <summary>
    /// How long to wait for the response, retries included; <see cref="MessagingOptions.RequestTimeout"/> when null.
    /// It counts from when a provider is found, so a <see cref="WaitForProvider"/> longer than it is waited out. Positive, and at most what a .NET timer takes (2^32-2 ms, about 49.7 days): there is no infinite one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to zero, a negative value (<see cref="System.Threading.Timeout.InfiniteTimeSpan"/> included) or more than the maximum.</exception>
    public TimeSpan? Timeout
    {
        get;
        init => field = value is not { } timeout || TimerLimit.Fits(timeout) ? value
            : throw new ArgumentOutOfRangeException(nameof(Timeout), value, $"A request timeout is positive and at most {TimerLimit.Max} (a .NET timer's limit); there is no infinite one.");
    }

    /// <summary>Safe to run twice: when the provider dies mid-request the call is retried once on another provider.</summary>
    public bool Idempotent { get; init; }

    /// <summary>
    /// How long to wait for a provider to appear before failing with <see cref="NoServiceProviderException"/>; zero (the
    /// default) fails at once. Waited before the <see cref="Timeout"/> begins; a retry's search for another provider waits
    /// at most what is left of the timeout.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative value, or to more than a .NET timer waits.</exception>
    public TimeSpan WaitForProvider
    {
        get;
        init => field = value >= TimeSpan.Zero && value <= TimerLimit.Max ? value
            : throw new ArgumentOutOfRangeException(nameof(WaitForProvider), value, $"The wait for a provider is zero to {TimerLimit.Max} (a .NET timer's limit).");
    }
}
