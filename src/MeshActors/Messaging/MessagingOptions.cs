namespace MeshActors.Messaging;

/// <summary>Topic, group and service settings.</summary>
public sealed record MessagingOptions
{
    /// <summary>How long a request waits for its response unless the call says otherwise. Default 5 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
