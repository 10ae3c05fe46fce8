using System.Threading.Channels;

namespace MeshActors.Tests.Discovery;

/// <summary>Records events raised on any thread so a spec can wait for one (e.g. <c>registry.Changed += recorder.Add</c>).</summary>
internal sealed class EventRecorder<T>
{
    private readonly Channel<T> _events = Channel.CreateUnbounded<T>();
    private readonly List<T> _seen = [];

    public void Add(T item) => _events.Writer.TryWrite(item);

    /// <summary>Every event taken so far by <see cref="ExpectAsync{TWanted}"/>, matching or not.</summary>
    public IReadOnlyList<T> Seen => _seen;

    /// <summary>Waits for the next event of type <typeparamref name="TWanted"/> that matches, passing over others.</summary>
    public async Task<TWanted> ExpectAsync<TWanted>(Func<TWanted, bool> match, TimeSpan timeout)
        where TWanted : T
    {
        using var deadline = new CancellationTokenSource(Eventually.Scaled(timeout));
        try
        {
            while (true)
            {
                var item = await _events.Reader.ReadAsync(deadline.Token);
                _seen.Add(item);
                if (item is TWanted wanted && match(wanted))
                    return wanted;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No matching {typeof(TWanted).Name} within {Eventually.Scaled(timeout)}; seen: {string.Join(", ", _seen)}");
        }
    }

    public Task<T> ExpectAsync(T expected, TimeSpan timeout) =>
        ExpectAsync<T>(item => EqualityComparer<T>.Default.Equals(item, expected), timeout);
}
