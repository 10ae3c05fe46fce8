namespace MeshActors.Messaging;

/// <summary>Where a topic message or request came from.</summary>
public sealed class MessageContext
{
    /// <summary>The topic or service name it was addressed to.</summary>
    public required string Address { get; init; }

    /// <summary>The sending node's id.</summary>
    public required string SenderId { get; init; }

    /// <summary>The sending node's name.</summary>
    public required string SenderName { get; init; }

    /// <summary>The binary attachment that travelled with it; empty when none.</summary>
    public ReadOnlyMemory<byte> Attachment { get; init; }
}
