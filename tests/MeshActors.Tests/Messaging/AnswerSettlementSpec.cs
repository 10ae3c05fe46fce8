using System.Text;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

/// <summary>
/// An answer that this node has read and taken off its table of requests in flight (docs/architecture.md, Answers)
/// reaches its caller, whatever happens after the read: a channel that drops, a deadline that fires.
/// </summary>
/// <remarks>
/// The provider is a channel double (as <see cref="LoopbackPeer"/>) that hands what it reads to the client's handler
/// exactly as <c>PeerChannel.ReadFrames</c> does: <c>OnReadStarting</c>, <c>OnEnvelope</c> for each frame,
/// <c>OnReadEnded</c>. It lets a spec order the read, the drop and the deadline, which real HTTP/2 on loopback leaves
/// to the scheduler.
/// </remarks>
public sealed class AnswerSettlementSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private MessagingNode _client = null!;

    public async Task InitializeAsync() => _client = await MessagingNode.StartAsync("client", output);

    public async Task DisposeAsync() => await _client.DisposeAsync();

    /// <summary>
    /// The send of a request returns after its answer was read and the provider's channel then dropped: a sender that
    /// waited for room in a backed-up queue resumes on the pool, after the round trip. The answer was taken off the
    /// table (no failure of the drop will ever come for it), so it must reach the caller, not a
    /// <see cref="PeerUnavailableException"/> ("its channel closed as the request was queued").
    /// </summary>
    [Fact]
    public async Task A_request_must_return_its_answer_when_the_channel_dropped_after_the_answer_was_read_but_before_the_send_returned()
    {
        var provider = await ConnectProvider("square");
        provider.OnRequest = req =>
        {
            provider.Read(new Envelope.Res(req.Id, Encoding.UTF8.GetBytes(Square(req).ToString())));
            provider.Connected = false; // the channel drops right after that read; the handler hears of it later
        };

        var lost = new List<string>();
        for (var n = 1; n <= 20; n++)
        {
            provider.Connected = true;
            var x = n;
            try
            {
                // On a thread of the pool, as a caller resumed after waiting for room is.
                Assert.Equal(x * x, await Task.Run(() => _client.Messaging.RequestAsync<int, int>("square", x)).WithTimeout());
            }
            catch (PeerUnavailableException e)
            {
                lost.Add($"request {x}: {e.Message}");
            }
        }

        Assert.True(lost.Count == 0, $"{lost.Count} of 20 answers read before the drop were lost:\n{string.Join("\n", lost)}");
    }

    /// <summary>
    /// The answer is read well within the request's timeout, and taken off the table then; the read it came in goes on
    /// (a large read, or frames behind it) while the deadline passes. The answer arrived in time: the caller must get it,
    /// not "did not answer within 200 ms": the deadline comes after the answer, and finds the request settled.
    /// </summary>
    [Fact]
    public async Task A_request_must_return_its_answer_when_its_deadline_passes_after_the_answer_was_read()
    {
        var provider = await ConnectProvider("square");
        var asked = new TaskCompletionSource<Envelope.Req>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.OnRequest = req => asked.TrySetResult(req);
        var timeout = TimeSpan.FromMilliseconds(200);

        var call = _client.Messaging.RequestAsync<int, int>("square", 7, new RequestOptions { Timeout = timeout });
        var req = await asked.Task.WithTimeout();

        // One read: the answer, then the rest of the read takes longer than what is left of the timeout.
        _client.Messaging.OnReadStarting();
        try
        {
            _ = _client.Messaging.OnEnvelope(provider, new Envelope.Res(req.Id, "49"u8.ToArray())); // on this thread, gathered
            Assert.Equal(0, _client.Messaging.Correlator.Count); // the answer is taken: the request is no longer awaited
            // The rest of the read: this thread is busy until the deadline has passed (bounded, as ExpectNoMsg is).
            ((IAsyncResult)call).AsyncWaitHandle.WaitOne(timeout * 5);
        }
        finally
        {
            _client.Messaging.OnReadEnded();
        }

        Assert.Equal(49, await call.WithTimeout());
    }

    private static int Square(Envelope.Req req) => int.Parse(Encoding.UTF8.GetString(req.Data.Span)) is var x ? x * x : 0;

    // A provider of the service, connected to the client, its interest announced, and routed to.
    private async Task<ProviderChannel> ConnectProvider(string service)
    {
        var provider = new ProviderChannel(_client.Messaging);
        _client.Messaging.OnPeerConnected(provider);
        await _client.Messaging.OnEnvelope(provider, new Envelope.Interest(1, [], [service]));
        await _client.WaitForProvidersAsync(service, 1);
        return provider;
    }

    /// <summary>The client's channel to a provider node: what the client sends is handed to <see cref="OnRequest"/>; <see cref="Read"/> is one read of the channel.</summary>
    private sealed class ProviderChannel(IPeerEnvelopeHandler client) : IPeer
    {
        private volatile bool _connected = true;

        public string NodeId { get; } = Guid.NewGuid().ToString();

        public string Name => "provider";

        public bool IsConnected => _connected;

        public bool Connected
        {
            set => _connected = value;
        }

        public bool SpeaksMeshProtocol => true;

        public bool AcceptsAttachments => true;

        public Action<Envelope.Req> OnRequest { get; set; } = _ => { };

        public bool TrySend(Envelope envelope)
        {
            if (!_connected)
                return false;
            if (envelope is Envelope.Req req)
                OnRequest(req);
            return true; // interest and the like: taken, as a channel's queue takes them
        }

        public ValueTask SendAsync(Envelope envelope, CancellationToken cancellationToken = default) =>
            TrySend(envelope) ? default : ValueTask.FromException(new PeerUnavailableException(NodeId, "the channel is closed"));

        /// <summary>One read of the channel, as PeerChannel.ReadFrames hands it over.</summary>
        public void Read(params Envelope[] envelopes)
        {
            client.OnReadStarting();
            try
            {
                foreach (var envelope in envelopes)
                    _ = client.OnEnvelope(this, envelope);
            }
            finally
            {
                client.OnReadEnded();
            }
        }
    }
}
