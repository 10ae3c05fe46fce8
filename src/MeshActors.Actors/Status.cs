namespace MeshActors.Actors;

/// <summary>The outcome of an operation, as a reply: <see cref="Success"/> or <see cref="Failure"/> (which faults an <c>Ask</c>).</summary>
public abstract class Status
{
    private Status()
    {
    }

    /// <summary>The operation succeeded, optionally with a value.</summary>
    public sealed class Success(object? status) : Status
    {
        /// <summary>The value, if any.</summary>
        public object? Status { get; } = status;

        /// <inheritdoc />
        public override string ToString() => $"Success: {Status}";
    }

    /// <summary>The operation failed; an <c>Ask</c> that receives it fails with <see cref="Cause"/>.</summary>
    public sealed class Failure(Exception cause) : Status
    {
        /// <summary>Why it failed.</summary>
        public Exception Cause { get; } = cause ?? throw new ArgumentNullException(nameof(cause));

        /// <inheritdoc />
        public override string ToString() => $"Failure: {Cause}";
    }
}
