using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace MeshActors.Cli;

/// <summary>
/// The mesh command's log lines: one line each, an exception as its type and message, so that a failure stays one
/// readable line next to the command's own <c>mesh:</c> line. Stack traces are for <c>--log-level Debug</c> and below.
/// </summary>
internal sealed class OneLineLogFormatter(IOptionsMonitor<OneLineLogFormatter.Options> options) : ConsoleFormatter(Name)
{
    public new const string Name = "mesh";

    public sealed class Options : ConsoleFormatterOptions
    {
        /// <summary>Whole exceptions, stack traces included, still on one line.</summary>
        public bool StackTraces { get; set; }
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        textWriter.Write($"{Level(logEntry.LogLevel)}: {logEntry.Category}[{logEntry.EventId.Id}] {message}");
        if (logEntry.Exception is { } exception)
        {
            textWriter.Write(options.CurrentValue.StackTraces ? $" {exception}".ReplaceLineEndings(" ") : $" ({Describe(exception)})");
        }

        textWriter.WriteLine();
    }

    private static string Describe(Exception exception)
    {
        var innermost = exception.GetBaseException();
        return innermost == exception || innermost.Message == exception.Message
            ? $"{exception.GetType().Name}: {exception.Message}"
            : $"{exception.GetType().Name}: {exception.Message} <- {innermost.GetType().Name}: {innermost.Message}";
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
