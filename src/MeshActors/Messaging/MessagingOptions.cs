namespace MeshActors.Messaging;

/// <summary>Topic, group and service settings.</summary>
public sealed record MessagingOptions
{
    /// <summary>How long a request waits for its response unless the call says otherwise. Default 5 s (as Proto.Actor and Akka.NET asks: long enough for a loaded machine, short enough to notice a lost answer).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Which node of a group (nodes with the same name) gets each message of a topic. Default
    /// <see cref="LoadBalancers.RoundRobin"/> (as easymesh); <see cref="LoadBalancers.Broadcast"/> gives every message to
    /// every node of the group.
    /// </summary>
    public ILoadBalancer TopicGroupBalancer { get; init; } = LoadBalancers.RoundRobin;

    /// <summary>Which provider gets each request of a service. Default <see cref="LoadBalancers.RoundRobin"/>: spreads load evenly without any bookkeeping.</summary>
    public ILoadBalancer ServiceBalancer { get; init; } = LoadBalancers.RoundRobin;

    /// <summary>
    /// Messages that may wait for one callback subscription (<see cref="IMesh.Subscribe{T}"/>) before the channels
    /// that feed it stop reading until it has taken half of them (HTTP/2 flow control then slows the publishers down,
    /// whose <c>PublishAsync</c> waits). Default 2,000: ~1 ms of a fast stream, a few hundred KB of small messages, so
    /// that a slow subscriber costs bounded memory and loses nothing, and few enough that messages waiting here do not
    /// make the garbage collector's work grow (each outlives collections that copy it). While a channel waits,
    /// everything else its peer sends waits too. Subscribers that are actors have their own mailboxes and are not counted.
    /// </summary>
    public int SubscriberBacklogLimit { get; init; } = 2_000;

    /// <summary>
    /// Bytes (JSON and attachments) that may wait for one callback subscription before its channels wait, as for
    /// <see cref="SubscriberBacklogLimit"/>, which bounds small messages while this bounds large ones. Default 8 MB, as
    /// much as a waiting sender queues (<see cref="Peers.PeerOptions.BackpressureBytes"/>).
    /// </summary>
    public long SubscriberBacklogBytes { get; init; } = 8L * 1024 * 1024;

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
        if (!TimerLimit.Fits(RequestTimeout))
            yield return ($"MessagingOptions.RequestTimeout must be positive and at most {TimerLimit.Max} (a .NET timer's limit), not {RequestTimeout}.", nameof(RequestTimeout));
        if (SubscriberBacklogLimit < 2)
            yield return ($"MessagingOptions.SubscriberBacklogLimit must be at least 2, not {SubscriberBacklogLimit}.", nameof(SubscriberBacklogLimit));
        if (SubscriberBacklogBytes < 1)
            yield return ($"MessagingOptions.SubscriberBacklogBytes must be positive, not {SubscriberBacklogBytes}.", nameof(SubscriberBacklogBytes));
        if (TopicGroupBalancer is null)
            yield return ("MessagingOptions.TopicGroupBalancer is null; use one of LoadBalancers.", nameof(TopicGroupBalancer));
        if (ServiceBalancer is null)
            yield return ("MessagingOptions.ServiceBalancer is null; use one of LoadBalancers.", nameof(ServiceBalancer));
        else if (ReferenceEquals(ServiceBalancer, LoadBalancers.Broadcast))
            yield return ("MessagingOptions.ServiceBalancer cannot be Broadcast: a request goes to exactly one provider.", nameof(ServiceBalancer));
    }
}
