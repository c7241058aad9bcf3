using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Allocation.IntegrationTests.Support;

/// <summary>Keeps every log entry, so a test can tell what the service did on its way to a result.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    /// <summary>How many times a command was retried after conflicting with another writer.</summary>
    public int CommandRetries => _entries.Count(entry => entry.Category.Contains("UnitOfWorkBehaviour", StringComparison.Ordinal) && entry.Level == LogLevel.Warning);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider._entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception)));
    }
}

internal sealed record LogEntry(string Category, LogLevel Level, string Message);
