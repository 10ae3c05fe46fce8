using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace MeshActors.Transport;

/// <summary>
/// The memory the listener's Kestrel works in: 64 KB blocks instead of its own 4 KB ones, so that a busy channel's
/// bytes come in with one receive per 32-64 KB, not one per 4 KB, and its request body holds them in as few segments.
/// </summary>
/// <remarks>
/// Kestrel's socket transport takes its pool from <see cref="IMemoryPoolFactory{T}"/> in its services. Blocks are
/// arrays on the pinned object heap (the socket pins what it receives into); up to <see cref="RetainedBlocks"/> of
/// those given back are kept for reuse, the rest left to the garbage collector: an idle listener holds at most 8 MB
/// per transport queue (Kestrel makes one per core, up to 16).
/// </remarks>
internal sealed class ListenerMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every block.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>How many returned blocks the pool keeps.</summary>
    public const int RetainedBlocks = 128;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private bool _disposed;

    /// <inheritdoc />
    public override int MaxBufferSize => BlockSize;

    /// <inheritdoc />
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            return block;
        }

        return new Block(this);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (!_disposed && Interlocked.Increment(ref _freeCount) <= RetainedBlocks)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    private sealed class Block(ListenerMemoryPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true), 0, BlockSize);

        public void Dispose() => pool.Return(this);
    }

    /// <summary>Hands Kestrel a pool of its own per transport queue, as its default factory does.</summary>
    public sealed class Factory : IMemoryPoolFactory<byte>
    {
        /// <inheritdoc />
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new ListenerMemoryPool();
    }
}
