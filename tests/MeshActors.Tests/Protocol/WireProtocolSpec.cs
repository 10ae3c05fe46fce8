using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

public sealed class WireProtocolSpec
{
    [Theory]
    [InlineData("1")]
    [InlineData(" 1 ")]
    [InlineData("1,2")]
    [InlineData("3, 2, 1")]
    public void Negotiation_must_choose_version_1_when_the_client_offers_it(string offered)
    {
        Assert.True(WireProtocol.TryNegotiateVersion(offered, out var version));
        Assert.Equal(1, version);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("2,3")]
    [InlineData("v1")]
    [InlineData("+1")]
    [InlineData("1.0")]
    public void Negotiation_must_fail_when_the_client_offers_no_version_spoken_here(string offered)
    {
        Assert.False(WireProtocol.TryNegotiateVersion(offered, out _));
    }
}
