using System.Collections.Concurrent;
using System.Net;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport;

/// <summary>A started listener and a dialer on 127.0.0.1; by default each inbound channel is handed to the test and lives until <see cref="Finish"/> or its abrupt end.</summary>
internal sealed class Loopback : IAsyncDisposable
{
    private readonly System.Threading.Channels.Channel<MeshChannel> _accepted = System.Threading.Channels.Channel.CreateUnbounded<MeshChannel>();
    private readonly ConcurrentDictionary<MeshChannel, TaskCompletionSource> _running = new();

    private Loopback(TransportOptions options, TestLog log, Func<MeshChannel, Task>? onChannel, Func<MeshChannel, Task>? onUnary)
    {
        Log = log;
        Options = options;
        Listener = new MeshListener("listener", options, onChannel ?? HoldAsync, onUnary, log);
        Dialer = new MeshDialer("dialer", options, log);
    }

    /// <summary>The shipped defaults (127.0.0.1, an ephemeral port): tests exercise what users get.</summary>
    public static TransportOptions DefaultOptions { get; } = new();

    public TestLog Log { get; }

    public TransportOptions Options { get; }

    public MeshListener Listener { get; }

    public MeshDialer Dialer { get; }

    public DnsEndPoint Address => Listener.AdvertisedEndPoint;

    public static async Task<Loopback> StartAsync(
        ITestOutputHelper output, TransportOptions? options = null, Func<MeshChannel, Task>? onChannel = null, Func<MeshChannel, Task>? onUnary = null)
    {
        var loopback = new Loopback(options ?? DefaultOptions, new TestLog(output), onChannel, onUnary);
        await loopback.Listener.StartAsync().WithTimeout();
        return loopback;
    }

    public Task<MeshChannel> OpenAsync(string? sessionId = null, IReadOnlyDictionary<string, string>? metadata = null) =>
        Dialer.OpenChannelAsync(Address, sessionId, metadata).WithTimeout();

    /// <summary>The next inbound channel the default handler accepted.</summary>
    public Task<MeshChannel> AcceptAsync() => _accepted.Reader.ReadAsync().WithTimeout();

    /// <summary>Lets the default handler of <paramref name="inbound"/> return.</summary>
    public void Finish(MeshChannel inbound) => _running[inbound].TrySetResult();

    public async ValueTask DisposeAsync()
    {
        foreach (var running in _running.Values)
        {
            running.TrySetResult();
        }

        Dialer.Dispose();
        await Listener.DisposeAsync();
    }

    private Task HoldAsync(MeshChannel channel)
    {
        var running = _running.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        channel.Aborted.Register(() => running.TrySetResult());
        _accepted.Writer.TryWrite(channel);
        return running.Task;
    }
}
