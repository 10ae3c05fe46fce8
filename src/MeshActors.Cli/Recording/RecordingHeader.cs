namespace MeshActors.Cli.Recording;

/// <summary>The first line of a recording: format version, when it started, which topics it covers.</summary>
internal sealed record RecordingHeader(int Version, DateTimeOffset Started, IReadOnlyList<string> Topics)
{
    /// <summary>The version this build writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The header's marker member: <c>{"mesh_recording":1, ...}</c>.</summary>
    public const string Marker = "mesh_recording";
}
