using System.Collections.Concurrent;
using System.Diagnostics;

namespace MeshActors.Tests.Mesh;

/// <summary>The spans of the source MeshActors that a filter picks, in the order they end.</summary>
internal sealed class MeshSpans : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _ended = new();

    public MeshSpans(Func<Activity, bool> mine)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MeshActors",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (mine(activity))
                    _ended.Enqueue(activity);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Ended => [.. _ended];

    /// <summary>The one ended span of <paramref name="kind"/>, or null.</summary>
    public Activity? EndedOf(ActivityKind kind) => _ended.SingleOrDefault(span => span.Kind == kind);

    public void Dispose() => _listener.Dispose();
}
