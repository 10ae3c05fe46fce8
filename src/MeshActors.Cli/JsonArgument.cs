using System.Text.Json;

namespace MeshActors.Cli;

/// <summary>Reads a JSON value given on the command line.</summary>
internal static class JsonArgument
{
    /// <summary>Parses <paramref name="text"/> as one JSON value; a <see cref="CliException"/> naming the argument when it is not.</summary>
    public static JsonElement Parse(string text, string argumentName)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CliException($"<{argumentName}> is not valid JSON ({e.Message}); quote it for the shell, e.g. '{{\"x\":1}}' or '\"text\"'.");
        }
    }
}
