namespace MeshActors.Transport.Http2;

/// <summary>A header block could not be decoded: the connection must end with COMPRESSION_ERROR (RFC 9113 section 4.3).</summary>
internal sealed class HpackException(string message) : Exception(message);
