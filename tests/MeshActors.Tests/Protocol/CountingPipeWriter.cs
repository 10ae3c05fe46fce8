using System.IO.Pipelines;

namespace MeshActors.Tests.Protocol;

/// <summary>A real pipe's writer that counts how often it is asked for memory and advanced, and how big the asks were.</summary>
internal sealed class CountingPipeWriter(PipeWriter inner) : PipeWriter
{
    public int MemoryRequests { get; private set; }

    public int Advances { get; private set; }

    public int Flushes { get; private set; }

    public List<int> SizeHints { get; } = [];

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        MemoryRequests++;
        SizeHints.Add(sizeHint);
        return inner.GetMemory(sizeHint);
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        Advances++;
        inner.Advance(bytes);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        Flushes++;
        return inner.FlushAsync(cancellationToken);
    }

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);
}
