using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport;

/// <summary>A logger factory that keeps every line (for assertions) and echoes it to the test's output, when there is one.</summary>
public sealed class TestLog(ITestOutputHelper? output = null) : ILoggerFactory
{
    public ConcurrentQueue<(string Category, LogLevel Level, EventId Id, string Message)> Lines { get; } = new();

    /// <summary>How many lines with this event id were logged (and contain <paramref name="containing"/>, when given).</summary>
    public int Count(int eventId, string? containing = null) =>
        Lines.Count(line => line.Id.Id == eventId && (containing is null || line.Message.Contains(containing, StringComparison.Ordinal)));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        try
        {
            output?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test has finished; its output is closed.
        }
    }

    private sealed class Logger(TestLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) =>
            logLevel >= (category.StartsWith("MeshActors", StringComparison.Ordinal) ? LogLevel.Debug : LogLevel.Warning);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            log.Lines.Enqueue((category, logLevel, eventId, message));
            log.Write($"{DateTime.Now:HH:mm:ss.fff} {logLevel,-11} {category}: {message}{(exception is null ? "" : $" {exception.GetType().Name}: {exception.Message}")}");
        }
    }
}
