namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class ReceiveActorSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void Receive_must_try_handlers_in_declaration_order_with_their_predicates()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Typed()));

        actor.Tell(5);
        actor.Tell(50);
        actor.Tell("text");
        actor.Tell(2.5);

        ExpectMsg("small 5");
        ExpectMsg("big 50");
        ExpectMsg("string text");
        ExpectMsg("any 2.5");
    }

    [Fact]
    public void Receive_with_a_function_returning_false_must_pass_the_message_to_the_next_handler()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Typed()));

        actor.Tell('x');
        actor.Tell('y');

        ExpectMsg("char x");
        ExpectMsg("any y");
    }

    [Fact]
    public void An_unhandled_message_must_be_published_as_UnhandledMessage()
    {
        var unhandled = CreateTestProbe();
        Sys.EventStream.Subscribe<UnhandledMessage>(unhandled.Ref);
        var actor = Sys.ActorOf(Props.Create(() => new OnlyStrings()));

        actor.Tell(42);

        var message = unhandled.ExpectMsg<UnhandledMessage>();
        Assert.Equal(42, message.Message);
        Assert.Equal(actor, message.Recipient);
        Assert.Equal(TestActor, message.Sender);
    }

    [Fact]
    public void Become_must_replace_the_behavior()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Switch()));

        actor.Tell("state");
        actor.Tell("flip");
        actor.Tell("state");
        actor.Tell("flip");
        actor.Tell("state");

        ExpectMsg("off");
        ExpectMsg("on");
        ExpectMsg("off");
    }

    [Fact]
    public void BecomeStacked_and_UnbecomeStacked_must_push_and_pop_behaviors()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Stacked()));

        actor.Tell("state");
        actor.Tell("push");
        actor.Tell("state");
        actor.Tell("push");
        actor.Tell("state");
        actor.Tell("pop");
        actor.Tell("state");
        actor.Tell("pop");
        actor.Tell("state");
        actor.Tell("pop"); // popping the initial behavior does nothing
        actor.Tell("state");

        ExpectMsg("level 0");
        ExpectMsg("level 1");
        ExpectMsg("level 2");
        ExpectMsg("level 1");
        ExpectMsg("level 0");
        ExpectMsg("level 0");
    }

    [Fact]
    public void Receive_must_refuse_handlers_declared_after_the_constructor()
    {
        var actor = Sys.ActorOf(Props.Create(() => new LateDeclaration()));

        actor.Tell("declare");

        ExpectMsg<InvalidOperationException>();
    }

    [Fact]
    public void ReceiveAsync_must_not_take_the_next_message_before_the_task_completes()
    {
        var gates = new[] { new TaskCompletionSource(), new TaskCompletionSource() };
        var actor = Sys.ActorOf(Props.Create(() => new AsyncWorker(gates)));

        actor.Tell(0);
        actor.Tell(1);

        ExpectMsg("start 0");
        ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // message 1 waits behind the incomplete task of message 0
        gates[0].SetResult();
        ExpectMsg("end 0");
        ExpectMsg("start 1");
        gates[1].SetResult();
        ExpectMsg("end 1");
    }

    [Fact]
    public void ReceiveAsync_must_run_continuations_on_the_actor_with_Self_and_Sender_intact()
    {
        var actor = Sys.ActorOf(Props.Create(() => new AsyncContext()));

        actor.Tell("go");

        var (self, sender, onActor) = ExpectMsg<(IActorRef, IActorRef, bool)>();
        Assert.Equal(actor, self);
        Assert.Equal(TestActor, sender);
        Assert.True(onActor);
    }

    [Fact]
    public void ReceiveAsync_faulting_must_be_a_failure_for_the_supervisor()
    {
        var actor = Sys.ActorOf(Props.Create(() => new AsyncFailing(TestActor)));

        actor.Tell("fail");

        ExpectMsg("prerestart");
        actor.Tell("still there?");
        ExpectMsg("still there?");
    }

    [Fact]
    public void ReceiveAsync_must_keep_working_after_a_faulted_handler_is_resumed()
    {
        var parent = Sys.ActorOf(Props.Create(() => new ResumingParent(TestActor)));
        parent.Tell("go");
        var child = ExpectMsg<IActorRef>();

        child.Tell("fail");
        child.Tell("async");

        ExpectMsg("async done");
    }

    [Fact]
    public void UntypedActor_must_receive_everything_and_support_Become()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Untyped()));

        actor.Tell("a");
        actor.Tell("become");
        actor.Tell("b");

        ExpectMsg("first a");
        ExpectMsg("second b");
    }

    private sealed class Typed : ReceiveActor
    {
        public Typed()
        {
            Receive<int>(i => Sender.Tell($"small {i}"), i => i < 10);
            Receive<int>(i => i >= 10, i => Sender.Tell($"big {i}"));
            Receive<string>(s => Sender.Tell($"string {s}"));
            Receive<char>(c =>
            {
                if (c != 'x')
                {
                    return false;
                }

                Sender.Tell($"char {c}");
                return true;
            });
            ReceiveAny(o => Sender.Tell($"any {o}"));
        }
    }

    private sealed class OnlyStrings : ReceiveActor
    {
        public OnlyStrings() => Receive<string>(_ => { });
    }

    private sealed class Switch : ReceiveActor
    {
        public Switch() => Off();

        private void Off()
        {
            Receive<string>(s => s == "state", _ => Sender.Tell("off"));
            Receive<string>(s => s == "flip", _ => Become(On));
        }

        private void On()
        {
            Receive<string>(s => s == "state", _ => Sender.Tell("on"));
            Receive<string>(s => s == "flip", _ => Become(Off));
        }
    }

    private sealed class Stacked : ReceiveActor
    {
        public Stacked() => Level(0)();

        private Action Level(int level) => () =>
        {
            Receive<string>(s => s == "state", _ => Sender.Tell($"level {level}"));
            Receive<string>(s => s == "push", _ => BecomeStacked(Level(level + 1)));
            Receive<string>(s => s == "pop", _ => UnbecomeStacked());
        };
    }

    private sealed class LateDeclaration : ReceiveActor
    {
        public LateDeclaration() => Receive<string>(_ =>
        {
            try
            {
                Receive<int>(_ => { });
            }
            catch (InvalidOperationException exception)
            {
                Sender.Tell(exception);
            }
        });
    }

    private sealed class AsyncWorker : ReceiveActor
    {
        public AsyncWorker(TaskCompletionSource[] gates) => ReceiveAsync<int>(async i =>
        {
            Sender.Tell($"start {i}");
            await gates[i].Task;
            Sender.Tell($"end {i}");
        });
    }

    private sealed class AsyncContext : ReceiveActor
    {
        public AsyncContext() => ReceiveAsync<string>(async _ =>
        {
            await Task.Yield();
            await Task.Delay(1);
            Sender.Tell((Self, Sender, Internal.ActorCell.Current?.Self.Equals(Self) == true));
        });
    }

    private sealed class AsyncFailing : ReceiveActor
    {
        private readonly IActorRef _probe;

        public AsyncFailing(IActorRef probe)
        {
            _probe = probe;
            ReceiveAsync<string>(s => s == "fail", async _ =>
            {
                await Task.Yield();
                throw new InvalidOperationException("async boom");
            });
            ReceiveAsync<string>(s => s == "async", async _ =>
            {
                await Task.Yield();
                Sender.Tell("async done");
            });
            ReceiveAny(m => Sender.Tell(m));
        }

        protected override void PreRestart(Exception reason, object? message)
        {
            _probe.Tell("prerestart");
            base.PreRestart(reason, message);
        }
    }

    private sealed class ResumingParent : ReceiveActor
    {
        public ResumingParent(IActorRef probe) =>
            Receive<string>(_ => Sender.Tell(Context.ActorOf(Props.Create(() => new AsyncFailing(probe)))));

        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Resume);
    }

    private sealed class Untyped : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is "become")
            {
                Become(m => Sender.Tell($"second {m}"));
                return;
            }

            Sender.Tell($"first {message}");
        }
    }
}
