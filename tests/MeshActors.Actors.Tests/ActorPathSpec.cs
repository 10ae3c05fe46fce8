namespace MeshActors.Actors.Tests;

public sealed class ActorPathSpec
{
    private static readonly ActorPath Root = new("node");

    [Fact]
    public void A_path_must_print_with_and_without_its_address()
    {
        var path = Root / "user" / "a";

        Assert.Equal("meshactors://node/user/a", path.ToString());
        Assert.Equal("/user/a", path.ToStringWithoutAddress());
        Assert.Equal("/", Root.ToStringWithoutAddress());
        Assert.Equal(["user", "a"], path.Elements);
        Assert.Equal(2, path.Depth);
        Assert.Equal("node", path.SystemName);
    }

    [Fact]
    public void Paths_must_compare_by_system_and_elements_ignoring_the_uid()
    {
        var a = (Root / "user" / "a").WithUid(1);
        var sameOtherIncarnation = (Root / "user" / "a").WithUid(2);

        Assert.Equal(a, sameOtherIncarnation);
        Assert.Equal(a.GetHashCode(), sameOtherIncarnation.GetHashCode());
        Assert.NotEqual(a, Root / "user" / "b");
        Assert.NotEqual(a, new ActorPath("other") / "user" / "a");
        Assert.NotEqual(a, Root / "user");
    }
}
