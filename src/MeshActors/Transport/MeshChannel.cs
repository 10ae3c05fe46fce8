using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging;

namespace MeshActors.Transport;

/// <summary>One HTTP/2 stream between two nodes, seen from either end as a duplex byte stream.</summary>
/// <remarks>
/// <para>Orderly end: complete <see cref="Output"/> (the remote's <see cref="Input"/> then completes) and read
/// <see cref="Input"/> until its <see cref="ReadResult.IsCompleted"/>; the channel is released once both directions
/// have ended. Completing <see cref="Input"/> early tells the remote to stop sending.</para>
/// <para>Abrupt end (the remote reset the stream, the connection closed or failed its keep-alive ping, the listener
/// stopped, or <see cref="Abort"/>): <see cref="Aborted"/> fires as soon as the transport notices, and reads of
/// <see cref="Input"/> and flushes of <see cref="Output"/> throw <see cref="ChannelClosedException"/> (as does any other
/// call the transport fails: after the listener's handler returned, Kestrel has freed both bodies); data that had
/// already arrived may still be read first. An outbound channel whose Output is already complete hears of the end
/// through its next read only.</para>
/// </remarks>
public abstract class MeshChannel : IAsyncDisposable
{
    [Flags]
    private enum States
    {
        InputEnded = 1,
        OutputEnded = 2,
        Reset = 4,
        Aborted = 8,
        Released = 16,
    }

    // HTTP/2 error code CANCEL (RFC 9113 section 7): "the stream is no longer needed".
    private protected const int Http2Cancel = 0x8;

    private readonly CancellationTokenSource _aborted = new();
    private readonly Lock _aborting = new();
    private readonly ILogger _logger;
    private int _states;
    private string? _abortReason;

    private protected MeshChannel(
        bool isInbound, PipeReader input, PipeWriter output, string? remoteServiceName, string? sessionId, int? protocolVersion,
        IReadOnlyDictionary<string, string> metadata, EndPoint? remoteEndPoint, TransportStats stats, ILogger logger)
    {
        IsInbound = isInbound;
        RemoteServiceName = remoteServiceName;
        SessionId = sessionId;
        ProtocolVersion = protocolVersion;
        Metadata = metadata;
        RemoteEndPoint = remoteEndPoint;
        Stats = stats;
        _logger = logger;
        Input = new ChannelPipeReader(input, this);
        Output = new ChannelPipeWriter(output, this);
        stats.OnChannelOpened();
    }

    /// <summary>What the remote sends, until it completes its output (the read completes) or the channel ends abruptly (the read throws <see cref="ChannelClosedException"/>).</summary>
    public PipeReader Input { get; }

    /// <summary>What this side sends; complete it to end the stream in order. Flushes throw <see cref="ChannelClosedException"/> once the channel ended abruptly.</summary>
    public PipeWriter Output { get; }

    /// <summary>
    /// The remote's service name: its <c>x-service-name</c> request header on an inbound channel; on an outbound one the
    /// <c>x-service-name</c> the listener answered with, or null when it sent none (a plain Marketrix peer).
    /// </summary>
    public string? RemoteServiceName { get; }

    /// <summary>The request's <c>x-session-id</c>, if it had one.</summary>
    public string? SessionId { get; }

    /// <summary>
    /// The version the listener answered in <c>x-mesh-protocol</c> (docs/protocol.md 2.3); null on a plain (Marketrix)
    /// channel, whose caller offered no version or whose listener answered none. On an inbound channel whose caller
    /// offered only versions this node does not speak it is 0. A dialer offers versions by sending the header as metadata.
    /// </summary>
    public int? ProtocolVersion { get; }

    /// <summary>The request's other headers (lower-case names; repeated headers joined with a comma); empty when none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The remote's address: the peer socket's on an inbound channel, the dialed one on an outbound channel.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>True when the remote opened the channel (this side is the listener).</summary>
    public bool IsInbound { get; }

    /// <summary>Fires when the channel ends abruptly; see the type's remarks. Never fires after an orderly end.</summary>
    public CancellationToken Aborted => _aborted.Token;

    /// <summary>For a channel a listener accepted: fires when that listener begins to stop.</summary>
    internal CancellationToken ListenerStopping { get; init; }

    internal TransportStats Stats { get; }

    internal bool IsReset => Has(States.Reset);

    /// <summary>
    /// Resets the stream (HTTP/2 RST_STREAM, CANCEL) and releases the channel; the reason is logged here, the remote
    /// only sees the reset. Does nothing once the channel has ended.
    /// </summary>
    public void Abort(string reason)
    {
        _abortReason ??= reason;
        const States aborted = States.Aborted | States.Reset | States.InputEnded | States.OutputEnded;
        States before;

        // From the flags to the reset under a lock that the listener takes before Kestrel ends the response: a handler
        // whose writes fail as soon as the flags are set may return in between, and Kestrel must not end the response
        // in order (END_STREAM) ahead of the reset.
        lock (_aborting)
        {
            before = Set(aborted);
            if ((before & States.Aborted) != 0 || IsTerminal(before))
            {
                return;
            }

            if ((before & States.Reset) == 0)
            {
                TransportLog.ChannelAborted(_logger, this, reason);
                Stats.OnChannelAborted();
            }

            ResetStream();
        }

        _aborted.Cancel();
        EndIfTerminal(before, aborted);
    }

    /// <summary>Releases the channel; if either direction is still open it is aborted first (see <see cref="Abort"/>).</summary>
    public ValueTask DisposeAsync()
    {
        if (!IsTerminal((States)Volatile.Read(ref _states)))
        {
            Abort("disposed before both directions ended");
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => IsInbound
        ? $"inbound channel from '{RemoteServiceName}' at {Format(RemoteEndPoint)}"
        : $"outbound channel to '{RemoteServiceName ?? "?"}' at {Format(RemoteEndPoint)}";

    /// <summary>Sends a reset to the remote and makes local reads and writes fail.</summary>
    private protected abstract void ResetStream();

    /// <summary>Frees what the stream holds once both directions have ended or it was aborted.</summary>
    private protected abstract void Release();

    /// <summary>The reader of <see cref="Input"/> examined <paramref name="bytes"/> more (each byte once, consumed or not).</summary>
    internal virtual void OnInputExamined(long bytes)
    {
    }

    /// <summary>The transport reports the stream reset or the connection gone; nothing more can be sent.</summary>
    private protected void OnRemoteReset(string reason)
    {
        const States reset = States.Reset | States.OutputEnded;
        var before = Set(reset);
        if ((before & States.Reset) == 0)
        {
            TransportLog.ChannelLost(_logger, this, reason);
            Stats.OnChannelAborted();
        }

        // Cancelled by every caller, not only the first: whoever goes on to throw ChannelClosedException must find
        // Aborted already signalled, even while another thread is still logging the loss.
        _aborted.Cancel();
        EndIfTerminal(before, reset);
    }

    /// <summary>The handler of an inbound channel returned: whatever is still open, Kestrel now ends.</summary>
    internal void OnHandlerReturned()
    {
        // An abort under way has reset the stream once this lock is free (see Abort).
        lock (_aborting)
        {
        }

        EndIfTerminal(Set(States.Released), States.Released);
    }

    internal void OnInputEnded() => EndIfTerminal(Set(States.InputEnded), States.InputEnded);

    internal void OnOutputEnded(Exception? error)
    {
        if (error is not null)
        {
            Abort($"output completed with an error: {error.Message}");
            return;
        }

        OutputCompleted();
        EndIfTerminal(Set(States.OutputEnded), States.OutputEnded);
    }

    /// <summary>The output was completed without an error; the transport may have to act on it.</summary>
    private protected virtual void OutputCompleted()
    {
    }

    /// <summary>True when <paramref name="exception"/> from a read or flush means the stream is gone (rather than misuse or the caller's own cancellation).</summary>
    internal bool IsTransportFailure(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && exception switch
        {
            ChannelClosedException => false,
            IOException or OperationCanceledException or HttpRequestException => true,
            ObjectDisposedException => Has(States.Reset),
            _ => false,
        };

    internal ChannelClosedException OnReadFailed(Exception exception)
    {
        var closed = Closed(exception);
        OnInputEnded();
        return closed;
    }

    internal ChannelClosedException OnWriteFailed(Exception? exception) => Closed(exception);

    private ChannelClosedException Closed(Exception? exception)
    {
        if (Has(States.Aborted))
        {
            return new ChannelClosedException($"The {this} was aborted: {_abortReason}", exception);
        }

        var reason = exception?.Message ?? "the remote reset the stream";
        OnRemoteReset(reason);
        return new ChannelClosedException($"The {this} closed abruptly: {reason}", exception);
    }

    private static bool IsTerminal(States states) =>
        (states & (States.Aborted | States.Released)) != 0 || (states & (States.InputEnded | States.OutputEnded)) == (States.InputEnded | States.OutputEnded);

    private void EndIfTerminal(States before, States added)
    {
        // States are only ever added, atomically, so exactly one addition turns the channel terminal.
        if (IsTerminal(before) || !IsTerminal(before | added))
        {
            return;
        }

        Stats.OnChannelEnded();
        Release();
        if (!Has(States.Reset))
        {
            TransportLog.ChannelClosed(_logger, this);
        }
    }

    private States Set(States states) => (States)Interlocked.Or(ref _states, (int)states);

    private bool Has(States state) => ((States)Volatile.Read(ref _states) & state) != 0;

    private static string Format(EndPoint? endPoint) => endPoint is null ? "?" : ChannelHeaders.Format(endPoint);
}
