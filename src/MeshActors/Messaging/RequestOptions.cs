namespace MeshActors.Messaging;

/// <summary>Per-call settings of a service request.</summary>
public sealed record RequestOptions
{
    /// <summary>The settings used when a call gives none.</summary>
    public static RequestOptions Default { get; } = new();

    /// <summary>How long to wait for the response, retries included; <see cref="MessagingOptions.RequestTimeout"/> when null.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Safe to run twice: when the provider dies mid-request the call is retried once on another provider.</summary>
    public bool Idempotent { get; init; }

    /// <summary>How long to wait for a provider to appear before failing with <see cref="NoServiceProviderException"/>; zero (the default) fails at once.</summary>
    public TimeSpan WaitForProvider { get; init; }
}
