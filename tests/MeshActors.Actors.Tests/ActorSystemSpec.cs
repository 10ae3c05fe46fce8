namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class ActorSystemSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void ActorOf_must_place_application_actors_under_user_and_system_actors_under_system()
    {
        var user = Sys.ActorOf(Props.Create<TestActors.Echo>(), "echo");
        var system = Sys.SystemActorOf(Props.Create<TestActors.Echo>(), "echo");

        Assert.Equal("/user/echo", user.Path.ToStringWithoutAddress());
        Assert.Equal("/system/echo", system.Path.ToStringWithoutAddress());
        Assert.Equal($"meshactors://{Sys.Name}/user/echo", user.Path.ToString());
        Assert.NotEqual(user, system);
    }

    [Fact]
    public void ActorOf_must_reject_a_name_taken_by_a_sibling_and_malformed_names()
    {
        Sys.ActorOf(Props.Create<TestActors.Echo>(), "taken");

        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create<TestActors.Echo>(), "taken"));
        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create<TestActors.Echo>(), "a/b"));
        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create<TestActors.Echo>(), "$reserved"));
        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create<TestActors.Echo>(), ""));
    }

    [Fact]
    public void ActorOf_must_generate_unique_names_when_none_is_given()
    {
        var names = Enumerable.Range(0, 200).Select(_ => Sys.ActorOf(Props.Create<TestActors.Echo>()).Path.Name).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, name => Assert.StartsWith("$", name));
    }

    [Fact]
    public void A_name_must_become_free_again_once_its_actor_has_terminated()
    {
        var first = Sys.ActorOf(Props.Create<TestActors.Echo>(), "reused");
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first);

        AwaitAssert(() => Sys.ActorOf(Props.Create<TestActors.Echo>(), "reused"));
    }

    [Fact]
    public void A_new_incarnation_at_the_same_path_must_not_equal_the_old_one()
    {
        var first = Sys.ActorOf(Props.Create<TestActors.Echo>(), "again");
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first);
        IActorRef? second = null;
        AwaitAssert(() => second = Sys.ActorOf(Props.Create<TestActors.Echo>(), "again"));

        Assert.Equal(first.Path, second!.Path);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Context_must_expose_parent_children_and_child_by_name()
    {
        var parent = Sys.ActorOf(Props.Create(() => new Parent()), "parent");

        parent.Tell("create");
        var child = ExpectMsg<IActorRef>();
        Assert.Equal("/user/parent/kid", child.Path.ToStringWithoutAddress());

        parent.Tell("inspect");
        Assert.Equal(child, ExpectMsg<IActorRef>());                 // Child("kid")
        Assert.Equal(ActorRefs.Nobody, ExpectMsg<IActorRef>());      // Child("missing")
        Assert.Equal([child], ExpectMsg<IActorRef[]>());              // Children

        child.Tell("parent?");
        Assert.Equal(parent, ExpectMsg<IActorRef>());
    }

    [Fact]
    public async Task Terminate_must_complete_WhenTerminated_and_refuse_new_actors()
    {
        Sys.ActorOf(Props.Create<TestActors.Echo>(), "a");

        await Sys.Terminate().WaitAsync(Dilated(TimeSpan.FromSeconds(5)));

        Assert.True(Sys.WhenTerminated.IsCompletedSuccessfully);
        Assert.Throws<InvalidOperationException>(() => Sys.ActorOf(Props.Create<TestActors.Echo>()));
    }

    [Fact]
    public async Task DisposeAsync_must_terminate_the_system()
    {
        var system = ActorSystem.Create("disposable");
        await system.DisposeAsync();

        Assert.True(system.WhenTerminated.IsCompleted);
    }

    [Fact]
    public void Create_must_reject_a_name_that_cannot_appear_in_a_path()
    {
        Assert.Throws<ArgumentException>(() => ActorSystem.Create("bad name"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActorSystemOptions { Throughput = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActorSystemOptions { AskTimeout = TimeSpan.Zero });
    }

    [Fact]
    public void An_actor_must_not_be_created_with_new()
    {
        var exception = Assert.Throws<ActorInitializationException>(() => new TestActors.Echo());
        Assert.Contains("Props", exception.Message);
    }

    private sealed class Parent : ReceiveActor
    {
        public Parent()
        {
            Receive<string>(s => s == "create", _ => Sender.Tell(Context.ActorOf(Props.Create(() => new Kid()), "kid")));
            Receive<string>(s => s == "inspect", _ =>
            {
                Sender.Tell(Context.Child("kid"));
                Sender.Tell(Context.Child("missing"));
                Sender.Tell(Context.Children.ToArray());
            });
        }
    }

    private sealed class Kid : ReceiveActor
    {
        public Kid() => Receive<string>(_ => Sender.Tell(Context.Parent));
    }
}
