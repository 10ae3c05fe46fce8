using System.Text;
using MeshActors.Discovery;
using MeshActors.Discovery.Redis;

namespace MeshActors.Tests.Discovery;

/// <summary>How the registry codec refuses a registration that is JSON but not one every node can read (docs/discovery.md).</summary>
public sealed class RegistrationCodecSpec
{
    private const string Prefix = "{\"id\":\"0b6f4a52-3c2e-4d8a-9f61-2a7c9e1d5b30\",\"service_name\":\"orders\",\"host\":\"10.0.0.7\",\"port\":7001,\"metadata\":";

    public static TheoryData<byte[]> MetadataThatIsNotText => new()
    {
        Utf8("{\"build\":\"\\ud800\"}"),
        Utf8("{\"build\":[\"a\\udc00b\"]}"),
        Utf8("{\"build\":{\"\\ud800\":1}}"),
        Join(Utf8("{\"build"), [0xff], Utf8("\":1}")),
        Join(Utf8("{\"build\":{\"sha\":\""), [0xc3, 0x28], Utf8("\"}}")),
    };

    [Theory]
    [MemberData(nameof(MetadataThatIsNotText))]
    public void A_registration_whose_unknown_metadata_is_not_text_must_be_refused_with_a_reason(byte[] metadata)
    {
        // Kept as it is, it would throw later, from whoever reads it: the membership's comparison at the next listing included.
        var value = Join(Utf8(Prefix), metadata, Utf8("}"));

        Assert.False(RegistrationCodec.TryDecode(value, 64 * 1024, out _, out _, out var error));
        Assert.StartsWith("value holds a string that is not valid text", error);
        Assert.False(RedisAnnouncement.TryRead(RedisAnnouncement.Join(value), 64 * 1024, out _, out _));
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Join(params byte[][] parts) => parts.SelectMany(part => part).ToArray();
}
