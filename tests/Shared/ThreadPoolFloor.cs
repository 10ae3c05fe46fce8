using System.Runtime.CompilerServices;

namespace MeshActors.Testing;

/// <summary>Lifts the thread pool's floor before any test runs.</summary>
/// <remarks>
/// Test code blocks threads on probes and conditions, several tests at a time, and on two cores the pool adds
/// threads only about twice a second once its floor is taken. The actors and timers under test then wait for a
/// thread; that is the likeliest reason why a node whose 250 ms heartbeats should have kept it listed once expired
/// mid-test (a 2 s TTL). Applications do not block pool threads this way: this is the tests' setting, not the library's.
/// </remarks>
internal static class ThreadPoolFloor
{
    [ModuleInitializer]
    internal static void Raise()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
