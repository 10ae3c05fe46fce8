using System.Text.Json;

namespace MeshActors.Cli.Recording;

/// <summary>One message of a recording: when it arrived (seconds after the recording started), where, from whom, and what.</summary>
internal sealed record RecordedMessage(double Time, string Topic, string? From, JsonElement Data, byte[]? Attachment);
