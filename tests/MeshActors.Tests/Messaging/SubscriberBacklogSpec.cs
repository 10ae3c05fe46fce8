using MeshActors.Messaging;

namespace MeshActors.Tests.Messaging;

/// <summary>One callback subscription's backlog on its own: when feeders must wait, and when they may go on.</summary>
public sealed class SubscriberBacklogSpec
{
    private readonly MessagingStats _stats = new();

    [Fact]
    public void Feeders_must_go_on_while_the_backlog_is_within_its_limit()
    {
        var backlog = new SubscriberBacklog(limit: 4, limitBytes: 1000, _stats);

        for (var i = 0; i < 4; i++)
            Assert.True(backlog.Add(10).IsCompleted);

        Assert.Equal(4, backlog.Pending);
        Assert.Equal(0, _stats.SubscribersBehind);
    }

    [Fact]
    public async Task Above_the_limit_feeders_must_wait_until_half_of_it_is_taken()
    {
        var backlog = new SubscriberBacklog(limit: 4, limitBytes: 1000, _stats);
        for (var i = 0; i < 4; i++)
            _ = backlog.Add(10);

        var behind = backlog.Add(10).AsTask();
        var alsoBehind = backlog.Add(10).AsTask();
        Assert.False(behind.IsCompleted);
        Assert.Equal(1, _stats.SubscribersBehind); // one episode, however many feeders wait in it

        for (var i = 0; i < 3; i++)
            backlog.Remove(10);
        Assert.False(behind.IsCompleted); // 3 left: still above half the limit

        backlog.Remove(10);
        await Task.WhenAll(behind, alsoBehind).WithTimeout();
    }

    [Fact]
    public async Task Above_the_byte_limit_feeders_must_wait_until_half_of_it_is_taken_however_few_the_messages()
    {
        var backlog = new SubscriberBacklog(limit: 100, limitBytes: 1000, _stats);
        Assert.True(backlog.Add(600).IsCompleted);

        var behind = backlog.Add(600).AsTask();
        Assert.False(behind.IsCompleted);

        backlog.Remove(600);
        Assert.False(behind.IsCompleted); // 600 left: above half the limit

        backlog.Remove(600);
        await behind.WithTimeout();
    }

    [Fact]
    public async Task Closing_must_release_waiting_feeders_and_never_hold_one_again()
    {
        var backlog = new SubscriberBacklog(limit: 2, limitBytes: 1000, _stats);
        _ = backlog.Add(10);
        _ = backlog.Add(10);
        var behind = backlog.Add(10).AsTask();

        backlog.Close();

        await behind.WithTimeout();
        Assert.True(backlog.Add(10).IsCompleted);
    }
}
