using MeshActors.Discovery;

// Usage: MeshActors.Tests.RegistryNode <registry> <prefix> <ttl seconds> <heartbeat ms>
// Registers one node, then at every heartbeat refreshes it and lists the registry, printing one line per change:
//   "id <node id>", "sees <member count>", "skipped <key> <reason>", "unavailable <reason>" (retried at the next
//   heartbeat), and "left" after it deregistered
// when standard input closes. A spec kills the process to play a crash.
var options = new DiscoveryOptions
{
    Registry = args[0],
    KeyPrefix = args[1],
    Ttl = TimeSpan.FromSeconds(int.Parse(args[2])),
    HeartbeatInterval = TimeSpan.FromMilliseconds(int.Parse(args[3])),
};
await using var registry = RegistryFactory.Create(options);
var self = new MeshMember(Guid.NewGuid().ToString(), "worker", "127.0.0.1", 10_000 + Environment.ProcessId % 50_000) { ProtocolVersion = 1 };
using var stop = new CancellationTokenSource();
_ = Task.Run(async () =>
{
    await Console.In.ReadToEndAsync();
    stop.Cancel();
});

Console.WriteLine($"id {self.Id}");
await registry.RegisterAsync(self);
var seen = -1;
var reported = new HashSet<string>();
using var heartbeat = new PeriodicTimer(options.HeartbeatInterval);
try
{
    do
    {
        try
        {
            await registry.RefreshAsync(self, stop.Token);
            var listing = await registry.ListAsync(stop.Token);
            foreach (var skipped in listing.Skipped.Where(s => reported.Add(s.Key + s.Reason)))
                Console.WriteLine($"skipped {skipped.Key} {skipped.Reason}");
            if (listing.Members.Count != seen)
                Console.WriteLine($"sees {seen = listing.Members.Count}");
        }
        catch (RegistryUnavailableException ex)
        {
            // As the registry actor does: an outage (a local directory wiped between the write and the listing) is
            // reported, and the next heartbeat tries again.
            Console.WriteLine($"unavailable {ex.Message}");
        }
    }
    while (await heartbeat.WaitForNextTickAsync(stop.Token));
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
}

await registry.DeregisterAsync(self);
Console.WriteLine("left");
