using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace MeshActors.Transport;

/// <summary>
/// Connection middleware that notices clients which do not start with the HTTP/2 connection preface (an HTTP/1.1
/// request, usually) so they can be logged and counted; Kestrel itself answers them with 400 on an HTTP/2-only endpoint.
/// </summary>
internal static class Http2PrefaceCheck
{
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public static Func<ConnectionDelegate, ConnectionDelegate> Create(TimeSpan timeout, Action<ConnectionContext> onMismatch) =>
        next => async connection =>
        {
            if (!await StartsWithPrefaceAsync(connection.Transport.Input, timeout).ConfigureAwait(false))
            {
                onMismatch(connection);
            }

            await next(connection).ConfigureAwait(false);
        };

    /// <summary>Peeks at the first bytes without consuming them; true unless they differ from the preface.</summary>
    private static async ValueTask<bool> StartsWithPrefaceAsync(PipeReader input, TimeSpan timeout)
    {
        using var silent = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(silent.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var matches = Matches(buffer);
                if (!matches || buffer.Length >= Preface.Length || result.IsCompleted)
                {
                    // Nothing consumed or examined: Kestrel's first read sees the same bytes at once.
                    input.AdvanceTo(buffer.Start);
                    return matches;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // A silent or broken connection is Kestrel's to time out or close, not a protocol mismatch.
            return true;
        }
    }

    private static bool Matches(ReadOnlySequence<byte> buffer)
    {
        var length = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> head = stackalloc byte[length];
        buffer.Slice(0, length).CopyTo(head);
        return head.SequenceEqual(Preface[..length]);
    }
}
