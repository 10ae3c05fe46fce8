namespace MeshActors.Cli;

/// <summary>A failure the user can act on: printed as one line on stderr, never with a stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);
