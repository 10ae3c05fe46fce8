using MeshActors.Peers;

namespace MeshActors.Tests.Peers;

public sealed class PeerOptionsSpec
{
    [Fact]
    public void Defaults_must_follow_the_protocol_recommendations_and_the_issue()
    {
        var options = new PeerOptions();

        Assert.Equal(64L * 1024 * 1024, options.OutboundQueueCapBytes);
        Assert.Equal(2048, options.BackpressureEnvelopes);
        Assert.Equal(8L * 1024 * 1024, options.BackpressureBytes);
        Assert.Equal(PeerOverflowPolicy.Wait, options.OverflowPolicy);
        Assert.Equal(TimeSpan.FromSeconds(1), options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.LivenessTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HandshakeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.GoodbyeGrace);
        Assert.Equal(TimeSpan.FromSeconds(5), options.UnaryRequestTimeout);
        Assert.Equal(128 * 1024, options.FlushThresholdBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.ReconnectMinBackoff);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ReconnectMaxBackoff);
        Assert.Equal(0.2, options.ReconnectRandomFactor);
        Assert.Equal(TimeSpan.FromSeconds(2), options.DialGrace);
    }

    [Fact]
    public void Values_out_of_range_must_be_refused_when_set_naming_the_option()
    {
        Assert.Equal(nameof(PeerOptions.OutboundQueueCapBytes), Assert.Throws<ArgumentOutOfRangeException>(() => new PeerOptions { OutboundQueueCapBytes = 1024 }).ParamName);
        Assert.Equal(nameof(PeerOptions.BackpressureEnvelopes), Assert.Throws<ArgumentOutOfRangeException>(() => new PeerOptions { BackpressureEnvelopes = 1 }).ParamName);
        Assert.Equal(nameof(PeerOptions.BackpressureBytes), Assert.Throws<ArgumentOutOfRangeException>(() => new PeerOptions { BackpressureBytes = 1024 }).ParamName);
        Assert.Equal(nameof(PeerOptions.LivenessTimeout), Assert.Throws<ArgumentOutOfRangeException>(() => new PeerOptions { LivenessTimeout = TimeSpan.Zero }).ParamName);
        Assert.Equal(nameof(PeerOptions.UnaryRequestTimeout), Assert.Throws<ArgumentOutOfRangeException>(() => new PeerOptions { UnaryRequestTimeout = TimeSpan.Zero }).ParamName);
        Assert.Equal(nameof(PeerOptions.FlushThresholdBytes), Assert.Throws<ArgumentOutOfRangeException>(() => new PeerOptions { FlushThresholdBytes = 100 }).ParamName);
        Assert.Equal(nameof(PeerOptions.ReconnectRandomFactor), Assert.Throws<ArgumentOutOfRangeException>(() => new PeerOptions { ReconnectRandomFactor = 2 }).ParamName);
    }
}
