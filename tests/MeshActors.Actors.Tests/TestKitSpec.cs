using Xunit.Sdk;

namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class TestKitSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void ExpectMsg_must_fail_on_the_wrong_type_a_failing_predicate_and_a_timeout()
    {
        TestActor.Tell(1);
        TestActor.Tell("two");

        Assert.Throws<XunitException>(() => ExpectMsg<string>());
        Assert.Throws<XunitException>(() => ExpectMsg<string>(s => s == "three"));
        Assert.Throws<XunitException>(() => ExpectMsg<string>(timeout: TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public void ExpectNoMsg_must_fail_when_a_message_arrives()
    {
        TestActor.Tell("surprise");

        Assert.Throws<XunitException>(() => ExpectNoMsg(TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public void FishForMessage_must_skip_messages_until_the_one_that_matches()
    {
        foreach (var i in new[] { 1, 2, 3, 4 })
        {
            TestActor.Tell(i);
        }

        Assert.Equal(3, FishForMessage<int>(i => i == 3));
        ExpectMsg(4);
    }

    [Fact]
    public void ReceiveWhile_must_stop_at_the_first_message_that_does_not_match_and_leave_it_queued()
    {
        foreach (var message in new object[] { 1, 2, "stop", 3 })
        {
            TestActor.Tell(message);
        }

        var numbers = ReceiveWhile<int>(max: TimeSpan.FromSeconds(1));

        Assert.Equal([1, 2], numbers);
        ExpectMsg("stop");
        Assert.Equal([3], ReceiveWhile<int>(idle: TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public void ReceiveN_must_return_the_messages_in_order_or_fail()
    {
        TestActor.Tell("a");
        TestActor.Tell("b");

        Assert.Equal(["a", "b"], ReceiveN(2));
        Assert.Throws<XunitException>(() => ReceiveN(1, TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public void ExpectMsgAllOf_must_take_the_messages_in_any_order_and_fail_on_one_not_expected_or_missing()
    {
        foreach (var i in new[] { 3, 1, 2, 4, 5 })
        {
            TestActor.Tell(i);
        }

        Assert.Equal([3, 1, 2], ExpectMsgAllOf(1, 2, 3));
        var notExpected = Assert.Throws<XunitException>(() => ExpectMsgAllOf(5, 6));
        Assert.Contains("4", notExpected.Message);
        ExpectMsg(5);
        TestActor.Tell(7);
        var missing = Assert.Throws<XunitException>(() => ExpectMsgAllOf(TimeSpan.FromMilliseconds(50), 7, 8));
        Assert.Contains("[8]", missing.Message);
    }

    [Fact]
    public async Task ExpectMsgAnyOf_must_take_one_message_equal_to_any_of_those_given()
    {
        TestActor.Tell("b");
        TestActor.Tell("c");

        Assert.Equal("b", ExpectMsgAnyOf("a", "b"));
        await Assert.ThrowsAsync<XunitException>(() => ExpectMsgAnyOfAsync(["a", "b"]));
        await Assert.ThrowsAsync<XunitException>(() => ExpectMsgAnyOfAsync(["a"], TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public void ExpectMsgFrom_must_fail_when_the_message_came_from_another_sender()
    {
        var other = CreateTestProbe("other");
        TestActor.Tell("mine", other.Ref);
        TestActor.Tell("theirs", ActorRefs.NoSender);

        Assert.Equal("mine", ExpectMsgFrom<string>(other.Ref));
        Assert.Throws<XunitException>(() => ExpectMsgFrom<string>(other.Ref));
    }

    [Fact]
    public void IgnoreMessages_must_drop_matching_messages_from_then_on_until_IgnoreNoMessages()
    {
        TestActor.Tell("kept before");
        IgnoreMessages<string>(s => s.StartsWith("noise", StringComparison.Ordinal));
        TestActor.Tell("noise 1");
        TestActor.Tell(1);
        TestActor.Tell("signal");
        IgnoreNoMessages();
        TestActor.Tell("noise 2");

        // Akka.NET keeps what the probe received before the filter, and filters in the order messages reach it.
        Assert.Equal<object>(["kept before", 1, "signal", "noise 2"], ReceiveN(4));
        ExpectNoMsg(TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public void A_probe_must_reply_forward_and_send_with_itself_as_sender()
    {
        var probe = CreateTestProbe();
        var other = CreateTestProbe();

        probe.Ref.Tell("question");
        probe.ExpectMsg("question");
        probe.Reply("answer");
        ExpectMsg("answer");
        Assert.Equal(probe.Ref, LastSender);

        probe.Forward(other.Ref);
        other.ExpectMsg("question");
        Assert.Equal(TestActor, other.LastSender);

        other.Send(TestActor, "sent");
        ExpectMsg("sent");
        Assert.Equal(other.Ref, LastSender);
    }

    [Fact]
    public async Task The_async_twins_must_behave_like_the_blocking_ones()
    {
        var probe = CreateTestProbe();
        probe.Ref.Tell(1);
        probe.Ref.Tell(2);
        probe.Ref.Tell(3);

        Assert.Equal(1, await probe.ExpectMsgAsync<int>());
        Assert.Equal(3, await probe.FishForMessageAsync<int>(i => i == 3));
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(20));
        var target = Sys.ActorOf(Props.Create<TestActors.Echo>());
        probe.Watch(target);
        Sys.Stop(target);
        await probe.ExpectTerminatedAsync(target);
        await Assert.ThrowsAsync<XunitException>(() => probe.ExpectMsgAsync<int>(timeout: TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public void Within_must_bound_the_expectations_inside_and_fail_when_the_block_is_too_slow()
    {
        Assert.Throws<XunitException>(() => Within(TimeSpan.FromMilliseconds(100), () => ExpectMsg<string>()));

        Within(TimeSpan.FromSeconds(2), () =>
        {
            TestActor.Tell("quick");
            ExpectMsg("quick");
            Assert.True(Remaining <= Dilated(TimeSpan.FromSeconds(2)));
        });
        Assert.Throws<XunitException>(() => Within(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), () => { }));
    }

    [Fact]
    public async Task WithinAsync_must_bound_the_expectations_inside()
    {
        await Assert.ThrowsAsync<XunitException>(() => WithinAsync(TimeSpan.FromMilliseconds(100), () => ExpectMsgAsync<string>()));

        Assert.Equal(TestKitSettings.DefaultTimeout, Remaining);
    }

    [Fact]
    public async Task AwaitCondition_and_AwaitAssert_must_wait_for_the_condition_and_fail_with_the_message_otherwise()
    {
        var count = 0;
        AwaitCondition(() => ++count >= 3, interval: TimeSpan.FromMilliseconds(1));
        await AwaitConditionAsync(async () => await Task.FromResult(++count >= 6));
        AwaitAssert(() => Assert.True(++count >= 9));
        await AwaitAssertAsync(async () => Assert.True(await Task.FromResult(++count >= 12)));

        var failure = Assert.Throws<XunitException>(() => AwaitCondition(() => false, TimeSpan.FromMilliseconds(30), message: "never true"));
        Assert.Contains("never true", failure.Message);
        Assert.Throws<TrueException>(() => Conditions.AwaitAssert(() => Assert.True(false), TimeSpan.FromMilliseconds(30)));
        await Assert.ThrowsAsync<XunitException>(() => Conditions.AwaitConditionAsync(() => false, TimeSpan.FromMilliseconds(30)));
    }

    [Fact]
    public async Task An_infinite_timeout_must_wait_for_the_message_or_the_condition()
    {
        // Timeout.InfiniteTimeSpan (-1 ms) counted as already expired: every wait failed at once.
        var probe = CreateTestProbe();
        var ready = false;
        using var later = new Timer(_ =>
        {
            Volatile.Write(ref ready, true);
            probe.Ref.Tell("late");
        }, null, TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);

        Assert.Equal("late", await probe.ExpectMsgAsync<string>(timeout: Timeout.InfiniteTimeSpan));
        AwaitCondition(() => Volatile.Read(ref ready), Timeout.InfiniteTimeSpan);
        await AwaitConditionAsync(() => Volatile.Read(ref ready), Timeout.InfiniteTimeSpan);
        AwaitAssert(() => Assert.True(Volatile.Read(ref ready)), Timeout.InfiniteTimeSpan);
        probe.Ref.Tell("another");
        Assert.Equal("another", probe.FishForMessage<string>(_ => true, Timeout.InfiniteTimeSpan));
        probe.Ref.Tell("last");
        Assert.Single(probe.ReceiveN(1, Timeout.InfiniteTimeSpan));
        Within(Timeout.InfiniteTimeSpan, () => ExpectNoMsg(TimeSpan.FromMilliseconds(10)));
    }

    [Fact]
    public void ExpectNoMsg_without_a_duration_must_end_with_the_enclosing_Within_block()
    {
        // It listened its full 250 ms whatever the block had left, and the block failed on its own deadline.
        Within(TimeSpan.FromMilliseconds(100), () => ExpectNoMsg());

        TestActor.Tell("too late");
        Assert.Throws<XunitException>(() => Within(TimeSpan.FromMilliseconds(100), () => ExpectNoMsg()));
        ExpectNoMsg();
    }

    [Fact]
    public void AwaitAssert_and_Within_must_wait_for_an_async_lambda_and_fail_with_it()
    {
        // An async lambda bound to the Action overloads as async void: they returned at once and never failed.
        var count = 0;
        AwaitAssert(async () =>
        {
            await Task.Yield();
            Assert.True(++count >= 3);
        });
        Assert.Equal(3, count);

        Assert.Throws<FailException>(() => AwaitAssert(async () =>
        {
            await Task.Yield();
            Assert.Fail("never true");
        }, TimeSpan.FromMilliseconds(100)));
        Assert.Throws<FailException>(() => Conditions.AwaitAssert(async () =>
        {
            await Task.Yield();
            Assert.Fail("never true");
        }, TimeSpan.FromMilliseconds(100)));
        Assert.Throws<XunitException>(() => Within(TimeSpan.FromMilliseconds(100), async () => await ExpectMsgAsync<string>()));

        TestActor.Tell("in time");
        Within(TimeSpan.FromSeconds(2), async () => await ExpectMsgAsync("in time"));
    }

    [Fact]
    public void Dilated_must_scale_by_the_time_factor()
    {
        Assert.Equal(TimeSpan.FromSeconds(2 * TestKitSettings.TimeFactor), Dilated(TimeSpan.FromSeconds(2)));
        Assert.Equal(Timeout.InfiniteTimeSpan, TestKitSettings.Dilated(Timeout.InfiniteTimeSpan));
        Assert.Equal(TimeSpan.FromSeconds(3 * TestKitSettings.TimeFactor), TestKitSettings.DefaultTimeout);
    }
}
