using MeshActors.Messaging;

namespace MeshActors.Tests.Messaging;

public sealed class RequestOptionsSpec
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)] // Timeout.InfiniteTimeSpan: failed every call at once when it was taken
    [InlineData(uint.MaxValue)]
    public void A_timeout_that_no_timer_takes_must_be_refused_when_set(long milliseconds)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RequestOptions { Timeout = TimeSpan.FromMilliseconds(milliseconds) });

        Assert.Equal(nameof(RequestOptions.Timeout), error.ParamName);
    }

    [Fact]
    public void The_longest_timeout_and_none_at_all_must_be_accepted()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(uint.MaxValue - 1.0), new RequestOptions { Timeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0) }.Timeout);
        Assert.Null(new RequestOptions { Timeout = null }.Timeout);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(60 * 24 * 3600.0)] // 60 days: beyond what a .NET timer waits
    public void A_wait_for_a_provider_a_timer_cannot_make_must_be_refused_when_set(double seconds)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RequestOptions { WaitForProvider = TimeSpan.FromSeconds(seconds) });

        Assert.Equal(nameof(RequestOptions.WaitForProvider), error.ParamName);
    }
}
