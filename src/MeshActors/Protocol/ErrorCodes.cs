namespace MeshActors.Protocol;

/// <summary>The <c>code</c> values of <c>err</c> frames (docs/protocol.md, section 9.2).</summary>
public static class ErrorCodes
{
    /// <summary>No common protocol version, or a hello with another version. Closes the channel.</summary>
    public const string UnsupportedVersion = "unsupported_version";

    /// <summary>A frame not allowed at this point (first frame not a hello, a second hello). Closes the channel.</summary>
    public const string ProtocolError = "protocol_error";

    /// <summary>No hello from the peer within the handshake timeout. Closes the channel.</summary>
    public const string HandshakeTimeout = "handshake_timeout";

    /// <summary>A length prefix above the receiver's maximum frame size. Closes the channel.</summary>
    public const string FrameTooLarge = "frame_too_large";

    /// <summary>The body ended inside a frame or before an announced attachment. Closes the channel.</summary>
    public const string TruncatedFrame = "truncated_frame";

    /// <summary>The frame after <c>"bin": N</c> is not N bytes long. Closes the channel.</summary>
    public const string AttachmentMismatch = "attachment_mismatch";

    /// <summary>The payload is not valid UTF-8 JSON.</summary>
    public const string BadJson = "bad_json";

    /// <summary>A known frame type with a missing, mistyped or out-of-range field.</summary>
    public const string BadEnvelope = "bad_envelope";

    /// <summary>The frame type is not one the receiver knows.</summary>
    public const string UnknownType = "unknown_type";

    /// <summary>Answers a request for a service the node does not host.</summary>
    public const string NoService = "no_service";

    /// <summary>Answers a request whose data the service cannot read as its request type.</summary>
    public const string BadRequest = "bad_request";

    /// <summary>Answers a request whose handler failed; the err frame names the exception type.</summary>
    public const string HandlerError = "handler_error";

    /// <summary>Answers a request the provider gave up on after its timeout.</summary>
    public const string Timeout = "timeout";

    /// <summary>Answers a request the node cannot take now (shutting down, overloaded).</summary>
    public const string Unavailable = "unavailable";

    /// <summary>Anything else that went wrong inside the receiver.</summary>
    public const string InternalError = "internal_error";

    /// <summary>True when an error with this code ends the channel (framing or handshake is lost), false when the channel goes on.</summary>
    public static bool ClosesChannel(string code) => code is UnsupportedVersion or ProtocolError or HandshakeTimeout
        or FrameTooLarge or TruncatedFrame or AttachmentMismatch;
}
