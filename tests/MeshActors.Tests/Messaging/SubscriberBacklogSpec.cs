using MeshActors.Messaging;

namespace MeshActors.Tests.Messaging;

/// <summary>One callback subscription's backlog on its own: when feeders must wait, and when they may go on.</summary>
public sealed class SubscriberBacklogSpec
{
    private readonly MessagingStats _stats = new();

    [Fact]
    public void Feeders_must_go_on_while_the_backlog_is_within_its_limit()
    {
        var backlog = new SubscriberBacklog(limit: 4, _stats);

        for (var i = 0; i < 4; i++)
            Assert.True(backlog.Add().IsCompleted);

        Assert.Equal(4, backlog.Pending);
        Assert.Equal(0, _stats.SubscribersBehind);
    }

    [Fact]
    public async Task Above_the_limit_feeders_must_wait_until_half_of_it_is_taken()
    {
        var backlog = new SubscriberBacklog(limit: 4, _stats);
        for (var i = 0; i < 4; i++)
            _ = backlog.Add();

        var behind = backlog.Add().AsTask();
        var alsoBehind = backlog.Add().AsTask();
        Assert.False(behind.IsCompleted);
        Assert.Equal(1, _stats.SubscribersBehind); // one episode, however many feeders wait in it

        for (var i = 0; i < 3; i++)
            backlog.Remove();
        Assert.False(behind.IsCompleted); // 3 left: still above half the limit

        backlog.Remove();
        await Task.WhenAll(behind, alsoBehind).WithTimeout();
    }

    [Fact]
    public async Task Closing_must_release_waiting_feeders_and_never_hold_one_again()
    {
        var backlog = new SubscriberBacklog(limit: 2, _stats);
        _ = backlog.Add();
        _ = backlog.Add();
        var behind = backlog.Add().AsTask();

        backlog.Close();

        await behind.WithTimeout();
        Assert.True(backlog.Add().IsCompleted);
    }
}
