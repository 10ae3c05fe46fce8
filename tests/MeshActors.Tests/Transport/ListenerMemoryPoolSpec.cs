using MeshActors.Transport;

namespace MeshActors.Tests.Transport;

public sealed class ListenerMemoryPoolSpec
{
    [Fact]
    public void A_returned_block_must_be_rented_again_rather_than_allocated()
    {
        using var pool = new ListenerMemoryPool();
        var first = pool.Rent(1);
        var memory = first.Memory;
        first.Dispose();

        using var second = pool.Rent(ListenerMemoryPool.BlockSize);

        Assert.Equal(ListenerMemoryPool.BlockSize, second.Memory.Length);
        Assert.True(memory.Span.Overlaps(second.Memory.Span));
    }

    [Fact]
    public void The_pool_must_keep_only_its_retained_blocks_of_those_returned()
    {
        using var pool = new ListenerMemoryPool();
        var rented = Enumerable.Range(0, ListenerMemoryPool.RetainedBlocks + 10).Select(_ => pool.Rent()).ToList();
        rented.ForEach(block => block.Dispose());

        var again = Enumerable.Range(0, ListenerMemoryPool.RetainedBlocks + 10).Select(_ => pool.Rent()).ToList();

        var reused = again.Count(block => rented.Any(old => old.Memory.Span.Overlaps(block.Memory.Span)));
        Assert.Equal(ListenerMemoryPool.RetainedBlocks, reused);
    }

    [Fact]
    public void A_request_larger_than_a_block_or_after_disposal_must_be_refused()
    {
        var pool = new ListenerMemoryPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(ListenerMemoryPool.BlockSize + 1));

        pool.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
    }
}
