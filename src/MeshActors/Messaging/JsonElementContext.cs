using System.Text.Json;
using System.Text.Json.Serialization;

namespace MeshActors.Messaging;

/// <summary>Writes a <see cref="JsonElement"/> without depending on the application's resolvers, which may know only its own types.</summary>
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class JsonElementContext : JsonSerializerContext;
