namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class PipeToSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void PipeTo_must_send_the_result_of_a_task()
    {
        Task.FromResult("done").PipeTo(TestActor);

        ExpectMsg("done");
        Assert.Equal(Sys.DeadLetters, LastSender);
    }

    [Fact]
    public void PipeTo_must_send_a_Status_Failure_for_a_faulted_task()
    {
        Task.FromException<string>(new InvalidOperationException("broken")).PipeTo(TestActor);

        Assert.Equal("broken", ExpectMsg<Status.Failure>().Cause.Message);
    }

    [Fact]
    public void PipeTo_must_map_success_and_failure_and_keep_the_given_sender()
    {
        var sender = CreateTestProbe();
        Task.FromResult(20).PipeTo(TestActor, sender.Ref, success: i => i * 2);
        Task.FromException<int>(new TimeoutException()).PipeTo(TestActor, failure: e => e.GetType().Name);

        ExpectMsg(40);
        Assert.Equal(sender.Ref, LastSender);
        ExpectMsg("TimeoutException");
    }

    [Fact]
    public void PipeTo_of_a_plain_task_must_send_Status_Success()
    {
        var gate = new TaskCompletionSource();
        ((Task)gate.Task).PipeTo(TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(50));

        gate.SetResult();

        ExpectMsg<Status.Success>();
    }

    [Fact]
    public void PipeTo_Self_inside_an_actor_must_come_back_as_a_message()
    {
        var actor = Sys.ActorOf(Props.Create(() => new PipesToSelf()));

        actor.Tell("start");

        ExpectMsg("piped 7");
    }

    private sealed class PipesToSelf : ReceiveActor
    {
        private IActorRef _requester = ActorRefs.Nobody;

        public PipesToSelf()
        {
            Receive<string>(_ =>
            {
                _requester = Sender;
                Task.Run(() => 7).PipeTo(Self);
            });
            Receive<int>(i => _requester.Tell($"piped {i}"));
        }
    }
}
