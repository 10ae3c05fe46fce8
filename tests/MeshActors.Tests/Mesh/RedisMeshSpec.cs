using MeshActors.Testing;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

/// <summary>The mesh over a real redis-server started for this class.</summary>
public sealed class RedisMeshSpec(RedisServer redis, ITestOutputHelper output) : MeshContract(output), IClassFixture<RedisServer>
{
    protected override string RegistrySetting => redis.ConnectionString;
}
