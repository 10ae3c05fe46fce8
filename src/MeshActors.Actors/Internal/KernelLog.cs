using Microsoft.Extensions.Logging;

namespace MeshActors.Actors.Internal;

/// <summary>The kernel's log events: one line per state change or failure, never one per message.</summary>
internal static partial class KernelLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Actor system {System} started")]
    public static partial void SystemStarted(ILogger logger, string system);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Actor system {System} is terminating")]
    public static partial void SystemTerminating(ILogger logger, string system);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Actor system {System} terminated")]
    public static partial void SystemTerminated(ILogger logger, string system);

    [LoggerMessage(EventId = 10, Message = "{Child} failed with {ExceptionType}: {Reason}; directive {Directive}")]
    public static partial void ChildFailed(ILogger logger, LogLevel level, Exception exception, string child, string exceptionType, string reason, Directive directive);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "{Actor} threw in {Hook}; continuing")]
    public static partial void HookFailed(ILogger logger, Exception exception, string actor, string hook);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "{Actor} failed again while waiting for its supervisor; this failure is dropped")]
    public static partial void IgnoredFailure(ILogger logger, Exception exception, string actor);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "Guardian {Actor} failed; stopping it")]
    public static partial void GuardianFailed(ILogger logger, Exception exception, string actor);

    [LoggerMessage(EventId = 14, Level = LogLevel.Critical, Message = "Kernel error while running {Actor}; the actor goes on")]
    public static partial void InternalError(ILogger logger, Exception exception, string actor);

    [LoggerMessage(EventId = 15, Message = "Backoff child {Child} stopped ({Reason}); restart {Restart} in {DelayMs:0} ms")]
    public static partial void BackoffRestart(ILogger logger, LogLevel level, string child, string reason, int restart, double delayMs);

    [LoggerMessage(EventId = 16, Level = LogLevel.Error, Message = "Backoff child {Child} stopped after {Restarts} restarts in a row; the supervisor gives up and stops")]
    public static partial void BackoffGaveUp(ILogger logger, string child, int restarts);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Dead letter: {MessageType} from {Sender} to {Recipient} was not delivered: {Reason} ({Count} so far)")]
    public static partial void DeadLetter(ILogger logger, string messageType, IActorRef sender, IActorRef recipient, string reason, long count);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "{Count} dead letters logged; further ones are only counted and published on the EventStream")]
    public static partial void DeadLettersSilenced(ILogger logger, long count);

    [LoggerMessage(EventId = 23, Level = LogLevel.Debug, Message = "{Recipient} did not handle {MessageType}")]
    public static partial void Unhandled(ILogger logger, IActorRef recipient, string messageType);
}
