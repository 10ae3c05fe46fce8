using System.Diagnostics;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>
/// Spans for publishing, processing, requesting and handling, on the activity source <c>MeshActors</c>, continued
/// across nodes through the <c>trace</c> and <c>tracestate</c> members of <c>pub</c> and <c>req</c> (docs/protocol.md 5.2).
/// </summary>
/// <remarks>
/// Spans are started only while someone listens to the source; the context goes out either way when the
/// application has a current W3C activity of its own, so that its traces cross the mesh without MeshActors' spans.
/// </remarks>
internal static class MeshTracing
{
    public const string SourceName = "MeshActors";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>The context to send: the span just started, else the application's current one.</summary>
    public static TraceContext? Outgoing(Activity? started) =>
        (started ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C, Id: { } id } activity ? new TraceContext(id, activity.TraceStateString) : null;

    public static Activity? StartPublish(string topic) =>
        Start(topic, " publish", ActivityKind.Producer, parent: null, "messaging.destination.name");

    public static Activity? StartProcess(string topic, TraceContext? parent) =>
        Start(topic, " process", ActivityKind.Consumer, parent, "messaging.destination.name");

    public static Activity? StartRequest(string service) =>
        Start(service, operation: null, ActivityKind.Client, parent: null, "rpc.service");

    public static Activity? StartHandle(string service, TraceContext? parent) =>
        Start(service, operation: null, ActivityKind.Server, parent, "rpc.service");

    /// <summary>Marks <paramref name="activity"/> as failed with <paramref name="exception"/>'s type and message.</summary>
    public static void Fail(Activity? activity, Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity?.SetTag("error.type", exception.GetType().FullName);
    }

    // The span's name is the address and the operation; built only when someone listens, as it costs a string per message.
    private static Activity? Start(string address, string? operation, ActivityKind kind, TraceContext? parent, string addressTag)
    {
        if (!Source.HasListeners())
            return null;

        var name = operation is null ? address : address + operation;

        // A remote parent, when the sender sent one; otherwise the current activity, as StartActivity does by default.
        var context = parent is not null && ActivityContext.TryParse(parent.Parent, parent.State, isRemote: true, out var remote) ? remote : default;
        var activity = Source.StartActivity(name, kind, context);
        activity?.SetTag(kind is ActivityKind.Client or ActivityKind.Server ? "rpc.system" : "messaging.system", "meshactors");
        activity?.SetTag(addressTag, address);
        return activity;
    }
}
