using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MeshActors.Tests.Discovery;

/// <summary>A logger factory that keeps every line, so a spec can count warnings.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public LogCapture() => Factory = LoggerFactory.Create(builder => builder.AddProvider(this).SetMinimumLevel(LogLevel.Trace));

    public ILoggerFactory Factory { get; }

    public IReadOnlyList<LogLine> Lines => _lines.ToArray();

    public int Count(int eventId, string? containing = null) =>
        _lines.Count(line => line.EventId == eventId && (containing is null || line.Message.Contains(containing, StringComparison.Ordinal)));

    ILogger ILoggerProvider.CreateLogger(string categoryName) => new Logger(this);

    void IDisposable.Dispose()
    {
    }

    public sealed record LogLine(LogLevel Level, int EventId, string Message);

    private sealed class Logger(LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture._lines.Enqueue(new LogLine(logLevel, eventId.Id, formatter(state, exception)));
    }
}
