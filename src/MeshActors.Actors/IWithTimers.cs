namespace MeshActors.Actors;

/// <summary>Implemented by an actor that uses timers; the kernel sets <see cref="Timers"/> before the actor's constructor body runs.</summary>
public interface IWithTimers
{
    /// <summary>The actor's timers.</summary>
    ITimerScheduler Timers { get; set; }
}
