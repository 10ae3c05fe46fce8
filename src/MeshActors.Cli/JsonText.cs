using System.Text.Json;

namespace MeshActors.Cli;

/// <summary>The JSON text of a received payload, where an absent <c>data</c> (a bare binary message) reads as <c>null</c>.</summary>
internal static class JsonText
{
    public static string Of(JsonElement element) => element.ValueKind == JsonValueKind.Undefined ? "null" : element.GetRawText();
}
