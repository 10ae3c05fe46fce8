using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary>The stash of one actor instance (<see cref="IWithStash"/>), unbounded, used only on the actor's turn.</summary>
internal sealed class UnboundedStash(ActorCell cell) : IStash
{
    private readonly List<Envelope> _stashed = [];
    private int _lastStashedNumber;

    public int Count => _stashed.Count;

    public bool IsEmpty => _stashed.Count == 0;

    public void Stash()
    {
        var current = cell.CurrentEnvelope;
        if (current.Message is null)
        {
            throw new InvalidOperationException("There is no message to stash: Stash() is called while processing a message.");
        }

        var number = cell.CurrentMessageNumber;
        if (_stashed.Count > 0 && number == _lastStashedNumber)
        {
            // It would be delivered twice after UnstashAll.
            throw new IllegalActorStateException($"Can't stash the same message {current.Message} more than once.");
        }

        _lastStashedNumber = number;
        _stashed.Add(current);
    }

    public void Unstash()
    {
        if (_stashed.Count > 0)
        {
            var first = _stashed[0];
            _stashed.RemoveAt(0);
            cell.Mailbox.EnqueueFirst([first]);
        }
    }

    public void UnstashAll()
    {
        cell.Mailbox.EnqueueFirst(_stashed);
        _stashed.Clear();
    }

    /// <summary>The actor stops: what it stashed is not lost silently.</summary>
    public void DeadLetterAll()
    {
        foreach (var envelope in _stashed)
        {
            cell.System.DeadLetter(envelope.Message, envelope.Sender, cell.Self);
        }

        _stashed.Clear();
    }
}
