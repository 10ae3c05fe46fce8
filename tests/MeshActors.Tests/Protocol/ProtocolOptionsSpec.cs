using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

public sealed class ProtocolOptionsSpec
{
    [Fact]
    public void Defaults_must_be_a_16_MiB_frame_limit_and_64_KiB_write_blocks()
    {
        var options = new ProtocolOptions();

        Assert.Equal(16 * 1024 * 1024, options.MaxFrameSize);
        Assert.Equal(ProtocolOptions.DefaultMaxFrameSize, options.MaxFrameSize);
        Assert.Equal(64 * 1024, options.WriteBlockSize);
    }

    [Theory]
    [InlineData(64 * 1024 - 1)]
    [InlineData(1024 * 1024 * 1024 + 1)]
    public void A_frame_limit_out_of_range_must_be_refused_when_set(int limit)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ProtocolOptions { MaxFrameSize = limit });

        Assert.Equal(nameof(ProtocolOptions.MaxFrameSize), error.ParamName);
    }

    [Theory]
    [InlineData(4 * 1024 - 1)]
    [InlineData(16 * 1024 * 1024 + 1)]
    public void A_write_block_size_out_of_range_must_be_refused_when_set(int size)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProtocolOptions { WriteBlockSize = size });
    }
}
