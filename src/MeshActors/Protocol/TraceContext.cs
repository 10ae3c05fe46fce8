namespace MeshActors.Protocol;

/// <summary>
/// The W3C Trace Context a <c>pub</c> or <c>req</c> carries (docs/protocol.md 5.2): the sender's <c>traceparent</c>
/// (member <c>trace</c>) and, when it has one, its vendors' <c>tracestate</c> (member <c>tracestate</c>).
/// </summary>
internal sealed record TraceContext(string Parent, string? State = null);
