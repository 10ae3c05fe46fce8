using System.Text;
using MeshActors.Replication;

namespace MeshActors.Tests.Replication;

/// <summary>How <see cref="ReplicationWire.Decode"/> refuses what breaks the format of docs/protocol.md section 14: a bad message whole, a bad version alone.</summary>
public sealed class ReplicationWireSpec
{
    private const string Good = "{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":1},\"stamp\":1,\"value\":12}";

    [Theory]
    [InlineData("{\"v\":\"1\",\"kind\":\"pull\",\"replica\":\"r\"}")]
    [InlineData("{\"v\":[1],\"kind\":\"pull\",\"replica\":\"r\"}")]
    [InlineData("{\"v\":null,\"kind\":\"pull\",\"replica\":\"r\"}")]
    [InlineData("{\"v\":1,\"kind\":\"\\ud800\",\"replica\":\"r\"}")]
    [InlineData("{\"v\":1,\"kind\":\"pull\",\"replica\":\"\\udc00\"}")]
    [InlineData("{\"v\":1,\"kind\":\"pull\",\"replica\":\"r\",\"\\ud800\":1}")]
    public void A_message_with_a_member_of_the_wrong_type_or_a_name_that_is_not_text_must_be_refused_with_a_format_error(string json)
    {
        Assert.Throws<FormatException>(() => ReplicationWire.Decode(Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [InlineData("{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":1},\"stamp\":\"1\",\"value\":12}")]
    [InlineData("{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":1},\"stamp\":null,\"value\":12}")]
    [InlineData("{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":\"1\"},\"stamp\":1,\"value\":12}")]
    [InlineData("{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":1,\"s\":{}},\"stamp\":1,\"value\":12}")]
    [InlineData("{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":1,\"\\ud800\":1},\"stamp\":1,\"value\":12}")]
    [InlineData("{\"replica\":\"r\",\"node\":\"\\ud800\",\"vv\":{\"r\":1},\"stamp\":1,\"value\":12}")]
    [InlineData("{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":5,\"r\":1},\"stamp\":1,\"value\":12}")]
    [InlineData("{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":1},\"stamp\":1,\"removed\":\"true\",\"value\":12}")]
    [InlineData("{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":1},\"stamp\":1,\"removed\":1,\"value\":12}")]
    [InlineData("{\"replica\":\"r\",\"node\":\"n\",\"vv\":{\"r\":1},\"stamp\":1,\"value\":12,\"\\ud800\\u0041\":1}")]
    public void A_version_with_a_member_of_the_wrong_type_or_a_name_that_is_not_text_must_be_refused_alone(string version)
    {
        var message = ReplicationWire.Decode(Encoding.UTF8.GetBytes(
            $"{{\"v\":1,\"kind\":\"delta\",\"replica\":\"r\",\"entries\":[{{\"key\":\"k\",\"versions\":[{version},{Good}]}}]}}"));

        Assert.Equal("k", Assert.Single(message.Refused).Key);
        Assert.Equal(12, Assert.Single(Assert.Single(message.Entries).Versions).Raw.GetInt32());
    }

    [Fact]
    public void An_entry_whose_key_is_not_text_must_be_refused_alone()
    {
        var message = ReplicationWire.Decode(Encoding.UTF8.GetBytes(
            $"{{\"v\":1,\"kind\":\"delta\",\"replica\":\"r\",\"entries\":[{{\"key\":\"\\ud800\",\"versions\":[{Good}]}},{{\"key\":\"k\",\"versions\":[{Good}]}}]}}"));

        Assert.Single(message.Refused);
        Assert.Equal("k", Assert.Single(message.Entries).Key);
    }
}
