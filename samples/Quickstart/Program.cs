// Two nodes, A and B, in one process, talking over real HTTP/2 on loopback and finding each other in a local
// registry (a temporary directory). Shows, in a few seconds: continuous bidirectional streaming, a topic
// fan-out, a service call, a remote error and replicated data. Run it with: dotnet run --project samples/Quickstart
using System.Runtime.InteropServices;
using MeshActors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Replication;

const int StreamedMessages = 5;
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
// Ctrl+C or SIGTERM ends the run through the same token, so that the nodes leave and the registry is removed.
using var interrupted = new CancellationTokenSource();
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
using var ends = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, interrupted.Token);
var registry = Directory.CreateTempSubdirectory("meshactors-quickstart-");
var discovery = new DiscoveryOptions { Registry = "local:" + registry.FullName };

try
{
    await using var a = await MeshNode.StartAsync(new MeshOptions { NodeName = "A", Discovery = discovery }, ends.Token);
    await using var b = await MeshNode.StartAsync(new MeshOptions { NodeName = "B", Discovery = discovery }, ends.Token);
    Console.WriteLine($"Node A {a.Self.Id} listens on {a.Self.Address}");
    Console.WriteLine($"Node B {b.Self.Id} listens on {b.Self.Address}");
    await Task.WhenAll(Connect(a, b), Connect(b, a)).WaitAsync(ends.Token);

    Section("1. Bidirectional streaming: both nodes send and receive numbered messages at the same time");
    using var aListens = Listen(a, "A", out var aHeard);
    using var bListens = Listen(b, "B", out var bHeard);
    await Task.WhenAll(aListens.Ready, bListens.Ready).WaitAsync(ends.Token); // listening before anything is sent
    await Task.WhenAll(Stream(a, "A", b), Stream(b, "B", a));
    await Task.WhenAll(aHeard, bHeard).WaitAsync(ends.Token);

    Section("2. Topic fan-out: B publishes prices; subscribers on A and on B each get every one");
    var fanOut = new CountdownEvent(6);
    using var onA = a.Subscribe<Price>("prices", (price, context) => Print(fanOut, $"  A got {price.Symbol} {price.Value} from {context.SenderName}"));
    await b.WaitForSubscriberAsync("prices", TimeSpan.FromSeconds(10), ends.Token); // B has heard of A's subscription
    using var onB = b.Subscribe<Price>("prices", (price, context) => Print(fanOut, $"  B got {price.Symbol} {price.Value} from {context.SenderName}"));
    await onB.Ready.WaitAsync(ends.Token); // B's own subscriber is in its routes before B publishes
    foreach (var price in new[] { new Price("ABC", 101.5m), new Price("XYZ", 42.0m), new Price("ABC", 101.7m) })
        await b.PublishAsync("prices", price, ends.Token);
    await Task.Run(() => fanOut.Wait(ends.Token));

    Section("3. Service call: A hosts 'quote', B calls it");
    using var quote = a.AddService<QuoteRequest, Price>("quote", (request, _, _) => request.Symbol switch
    {
        "ABC" => ValueTask.FromResult(new Price("ABC", 101.7m)),
        _ => throw new KeyNotFoundException($"no quote for {request.Symbol}"),
    });
    var waitForA = new RequestOptions { WaitForProvider = TimeSpan.FromSeconds(10) };
    var abc = await b.RequestAsync<QuoteRequest, Price>("quote", new QuoteRequest("ABC"), waitForA, ends.Token);
    Console.WriteLine($"  B asked for ABC and got {abc.Value}");

    Section("4. Remote error: the handler on A throws, B gets the exception's type and message");
    try
    {
        await b.RequestAsync<QuoteRequest, Price>("quote", new QuoteRequest("NOPE"), waitForA, ends.Token);
        throw new InvalidOperationException("the call should have failed");
    }
    catch (RemoteServiceException e)
    {
        Console.WriteLine($"  B caught RemoteServiceException: {e.RemoteType}: {e.RemoteMessage}");
    }

    Section("5. Replicated data: A writes a dictionary entry that B sees; both count on one shared counter at once");
    await using var stockOnA = await a.OpenDictionaryAsync<int>("stock", cancellationToken: ends.Token);
    await using var stockOnB = await b.OpenDictionaryAsync<int>("stock", cancellationToken: ends.Token); // with A's state
    var seenOnB = new TaskCompletionSource<DictionaryChange<int>>(TaskCreationOptions.RunContinuationsAsynchronously);
    using var watchB = stockOnB.OnChanged(change => seenOnB.TrySetResult(change));
    await stockOnA.SetAsync("apples", 12, ends.Token);
    var seen = await seenOnB.Task.WaitAsync(ends.Token);
    Console.WriteLine($"  B sees {seen.Key} = {seen.Value}, written by {(seen.NodeId == a.Self.Id ? "A" : seen.NodeId)}");

    await using var visitsOnA = await a.OpenCounterAsync("visits", ends.Token);
    await using var visitsOnB = await b.OpenCounterAsync("visits", ends.Token);
    var bothCounted = Task.WhenAll(CountedTo(visitsOnA, 200), CountedTo(visitsOnB, 200));
    await Task.WhenAll(Count(visitsOnA, 100), Count(visitsOnB, 100));
    await bothCounted.WaitAsync(ends.Token);
    Console.WriteLine($"  A and B each added 1 a hundred times at once: A counts {visitsOnA.Value}, B counts {visitsOnB.Value}");

    Section("Done: both nodes leave the mesh");
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    Console.Error.WriteLine("quickstart: interrupted");
    return 130;
}
catch (OperationCanceledException) when (deadline.IsCancellationRequested)
{
    Console.Error.WriteLine("quickstart: did not finish within 30 s");
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine($"quickstart: {e.GetType().Name}: {e.Message}");
    return 1;
}
finally
{
    registry.Delete(recursive: true);
}
return 0;

void Interrupt(PosixSignalContext context)
{
    context.Cancel = true;
    interrupted.Cancel();
}

static async Task Count(SharedCounter counter, int times)
{
    for (var i = 0; i < times; i++)
        await counter.IncrementAsync();
}

static Task CountedTo(SharedCounter counter, long total)
{
    var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var watch = counter.OnChanged(value =>
    {
        if (value >= total)
            reached.TrySetResult();
    });
    return reached.Task.ContinueWith(_ => watch.Dispose(), TaskScheduler.Default);
}

static void Section(string title) => Console.WriteLine($"{Environment.NewLine}== {title}");

// The nodes find each other in the registry, then dial; a round trip that succeeds means the channel is up.
static async Task Connect(IMesh node, IMesh other)
{
    while (true)
    {
        try
        {
            var rtt = await node.PingAsync(other.Self.Id);
            Console.WriteLine($"{node.Self.Name} reaches {other.Self.Name} in {rtt.TotalMilliseconds:0.000} ms");
            return;
        }
        catch (MeshActors.Peers.PeerUnavailableException)
        {
            await Task.Delay(20);
        }
    }
}

// Raw channel messages, as Marketrix peers send them: {"message":"Message from A #0"}.
static MeshRegistration Listen(IMesh node, string name, out Task heardAll)
{
    var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var count = 0;
    heardAll = heard.Task;
    return node.Subscribe<Chat>(IMesh.ChannelTopic, (chat, _) =>
    {
        Console.WriteLine($"  {name} received: {chat.Message}");
        if (Interlocked.Increment(ref count) == StreamedMessages)
            heard.TrySetResult();
        return ValueTask.CompletedTask;
    });
}

static async Task Stream(IMesh node, string name, IMesh other)
{
    for (var i = 0; i < StreamedMessages; i++)
    {
        await node.SendAsync(other.Self.Id, new Chat($"Message from {name} #{i}"));
        Console.WriteLine($"  {name} sent:     Message from {name} #{i}");
        await Task.Delay(100);
    }
}

static ValueTask Print(CountdownEvent countdown, string line)
{
    Console.WriteLine(line);
    countdown.Signal();
    return ValueTask.CompletedTask;
}

internal sealed record Chat(string Message);

internal sealed record Price(string Symbol, decimal Value);

internal sealed record QuoteRequest(string Symbol);
