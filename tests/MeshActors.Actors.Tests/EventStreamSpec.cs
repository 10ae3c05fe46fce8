namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class EventStreamSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void Subscribe_by_type_must_receive_that_type_and_its_subtypes_only()
    {
        var animals = CreateTestProbe();
        var dogs = CreateTestProbe();
        Sys.EventStream.Subscribe<Animal>(animals.Ref);
        Sys.EventStream.Subscribe(dogs.Ref, typeof(Dog));

        Sys.EventStream.Publish(new Dog("rex"));
        Sys.EventStream.Publish(new Cat("tom"));
        Sys.EventStream.Publish("not an animal");

        animals.ExpectMsg(new Dog("rex"));
        animals.ExpectMsg(new Cat("tom"));
        dogs.ExpectMsg(new Dog("rex"));
        animals.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        dogs.ExpectNoMsg(TimeSpan.FromMilliseconds(10));
    }

    [Fact]
    public void Subscribe_twice_must_deliver_once_and_Unsubscribe_must_stop_delivery()
    {
        var probe = CreateTestProbe();
        Assert.True(Sys.EventStream.Subscribe<Dog>(probe.Ref));
        Assert.False(Sys.EventStream.Subscribe<Dog>(probe.Ref));

        Sys.EventStream.Publish(new Dog("once"));
        probe.ExpectMsg(new Dog("once"));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        Assert.True(Sys.EventStream.Unsubscribe(probe.Ref, typeof(Dog)));
        Assert.False(Sys.EventStream.Unsubscribe(probe.Ref));
        Sys.EventStream.Publish(new Dog("never"));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_handler_subscription_must_run_until_disposed_and_survive_a_throwing_handler()
    {
        var seen = new List<string>();
        using (Sys.EventStream.Subscribe<Dog>(dog => seen.Add(dog.Name)))
        using (Sys.EventStream.Subscribe<Dog>(_ => throw new InvalidOperationException("bad handler")))
        {
            Sys.EventStream.Publish(new Dog("a"));
            Sys.EventStream.Publish(new Dog("b"));
        }

        Sys.EventStream.Publish(new Dog("c"));

        Assert.Equal(["a", "b"], seen);
    }

    [Fact]
    public void A_stopped_subscriber_must_be_unsubscribed()
    {
        var subscriber = Sys.ActorOf(Props.Create<TestActors.Echo>());
        Sys.EventStream.Subscribe<Dog>(subscriber);
        Watch(subscriber);

        Sys.Stop(subscriber);
        ExpectTerminated(subscriber);

        Assert.False(Sys.EventStream.Unsubscribe(subscriber));
    }

    private abstract record Animal(string Name);

    private sealed record Dog(string Name) : Animal(Name);

    private sealed record Cat(string Name) : Animal(Name);
}
