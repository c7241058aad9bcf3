using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Allocation.UnitTests.Fakes;

/// <summary>Keeps every log entry with its level, exception and the scope properties it was written under.</summary>
public sealed class FakeLog : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly AsyncLocal<ImmutableScope?> _scope = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    /// <summary>The entries written by loggers whose category contains <paramref name="category"/>.</summary>
    public IReadOnlyList<LogEntry> Of(string category) => [.. _entries.Where(entry => entry.Category.Contains(category, StringComparison.Ordinal))];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>Forgets what was logged so far, e.g. while a test set up its data.</summary>
    public void Clear() => _entries.Clear();

    public void Dispose()
    {
    }

    private sealed record ImmutableScope(IReadOnlyList<KeyValuePair<string, object?>> Properties, ImmutableScope? Outer);

    private sealed class Logger(FakeLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            var outer = log._scope.Value;
            var properties = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            log._scope.Value = new ImmutableScope([.. properties], outer);
            return new Restore(() => log._scope.Value = outer);
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var current = log._scope.Value; current is not null; current = current.Outer)
            {
                foreach (var (key, value) in current.Properties)
                {
                    scope.TryAdd(key, value);
                }
            }

            log._entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception, scope));
        }
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}

public sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception, IReadOnlyDictionary<string, object?> Scope);
