namespace MeshActors.Protocol;

/// <summary>A peer (or this node) broke the wire protocol; <see cref="Code"/> is the <c>err</c> code to answer with.</summary>
public class MeshProtocolException(string code, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>One of <see cref="ErrorCodes"/>.</summary>
    public string Code { get; } = code;

    /// <summary>The id of the request the bad frame carried, so that the answer fails that request at once; null when none was readable.</summary>
    public long? RequestId { get; init; }

    /// <summary>True when the channel cannot go on after this error (see <see cref="ErrorCodes.ClosesChannel"/>).</summary>
    public bool ClosesChannel => ErrorCodes.ClosesChannel(Code);
}
