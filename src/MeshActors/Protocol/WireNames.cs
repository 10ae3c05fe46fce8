using System.Text.Json;

namespace MeshActors.Protocol;

/// <summary>The frame types and member names of v1 envelopes, pre-encoded for the JSON writer and reader.</summary>
internal static class WireNames
{
    public const string HelloType = "hello";
    public const string PubType = "pub";
    public const string ReqType = "req";
    public const string ResType = "res";
    public const string ErrType = "err";
    public const string CancelType = "cancel";
    public const string InterestType = "interest";
    public const string PingType = "ping";
    public const string PongType = "pong";
    public const string ByeType = "bye";

    public static readonly JsonEncodedText T = JsonEncodedText.Encode("t");
    public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
    public static readonly JsonEncodedText Topic = JsonEncodedText.Encode("topic");
    public static readonly JsonEncodedText Service = JsonEncodedText.Encode("service");
    public static readonly JsonEncodedText TimeoutMs = JsonEncodedText.Encode("timeout_ms");
    public static readonly JsonEncodedText Idempotent = JsonEncodedText.Encode("idempotent");
    public static readonly JsonEncodedText Bin = JsonEncodedText.Encode("bin");
    public static readonly JsonEncodedText Data = JsonEncodedText.Encode("data");
    public static readonly JsonEncodedText N = JsonEncodedText.Encode("n");
    public static readonly JsonEncodedText V = JsonEncodedText.Encode("v");
    public static readonly JsonEncodedText Trace = JsonEncodedText.Encode("trace");
    public static readonly JsonEncodedText TraceState = JsonEncodedText.Encode("tracestate");

    public static readonly JsonEncodedText Hello = JsonEncodedText.Encode(HelloType);
    public static readonly JsonEncodedText Pub = JsonEncodedText.Encode(PubType);
    public static readonly JsonEncodedText Req = JsonEncodedText.Encode(ReqType);
    public static readonly JsonEncodedText Res = JsonEncodedText.Encode(ResType);
    public static readonly JsonEncodedText Err = JsonEncodedText.Encode(ErrType);
    public static readonly JsonEncodedText Cancel = JsonEncodedText.Encode(CancelType);
    public static readonly JsonEncodedText Interest = JsonEncodedText.Encode(InterestType);
    public static readonly JsonEncodedText Ping = JsonEncodedText.Encode(PingType);
    public static readonly JsonEncodedText Pong = JsonEncodedText.Encode(PongType);
    public static readonly JsonEncodedText Bye = JsonEncodedText.Encode(ByeType);
}
