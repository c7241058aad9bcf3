using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace Allocation.Web;

/// <summary>
/// Wraps the text console sink so that text from a request cannot forge log lines: a SKU or path holding
/// <c>\n[21:40:00 ERR] Database corrupted</c> would otherwise print a standalone ERR line, and an ANSI
/// escape could rewrite the terminal. Control characters (and the Unicode line and paragraph
/// separators) in the values the message shows are written as <c>\n</c>, <c>\r</c>, <c>\t</c> or
/// <c>\u001B</c>. The other properties go out as JSON, which escapes them already, as do JSON logs.
/// An exception keeps its lines, but every line after its first is indented, so none can pass for an event.
/// </summary>
internal sealed class TextLogEscaping(ILogEventSink inner) : ILogEventSink
{
    private static readonly MessageTemplateParser Parser = new();

    public void Emit(LogEvent logEvent) => inner.Emit(Escaped(logEvent));

    private static LogEvent Escaped(LogEvent logEvent)
    {
        var shown = logEvent.MessageTemplate.Tokens.OfType<PropertyToken>()
            .Where(token => logEvent.Properties.TryGetValue(token.PropertyName, out var value) && Text(value) is { } text && NeedsEscaping(text))
            .Select(token => token.PropertyName)
            .ToHashSet(StringComparer.Ordinal);
        var template = NeedsEscaping(logEvent.MessageTemplate.Text) ? Parser.Parse(Escape(logEvent.MessageTemplate.Text)) : logEvent.MessageTemplate;
        if (shown.Count == 0 && ReferenceEquals(template, logEvent.MessageTemplate) && logEvent.Exception is null)
        {
            return logEvent;
        }

        var properties = logEvent.Properties.Select(property => new LogEventProperty(
            property.Key,
            shown.Contains(property.Key) ? new ScalarValue(Escape(Text(property.Value)!)) : property.Value));
        var exception = logEvent.Exception is null ? null : new EscapedException(logEvent.Exception);
        return new LogEvent(logEvent.Timestamp, logEvent.Level, exception, template, properties, logEvent.TraceId ?? default, logEvent.SpanId ?? default);
    }

    // A scalar as the message writes it: strings as they are, other values through their text.
    private static string? Text(LogEventPropertyValue value) =>
        value is ScalarValue { Value: { } scalar } ? Convert.ToString(scalar, System.Globalization.CultureInfo.InvariantCulture) : null;

    private static bool NeedsEscaping(string text) =>
        text.AsSpan().IndexOfAnyInRange('\0', '\u001F') >= 0 || text.AsSpan().IndexOfAnyInRange('\u007F', '\u009F') >= 0 || text.AsSpan().IndexOfAny('\u2028', '\u2029') >= 0;

    private static bool IsEscaped(char character) => char.IsControl(character) || character is '\u2028' or '\u2029';

    private static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 16);
        foreach (var character in text)
        {
            escaped.Append(character switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when IsEscaped(character) => $"\\u{(int)character:X4}",
                _ => character.ToString(),
            });
        }

        return escaped.ToString();
    }

    /// <summary>What the text sink writes for an exception (its <see cref="ToString"/>), with no line that could pass for an event.</summary>
    private sealed class EscapedException(Exception exception) : Exception(exception.Message, exception)
    {
        public override string ToString()
        {
            var lines = InnerException!.ToString().ReplaceLineEndings("\n").Split('\n');
            return string.Join(Environment.NewLine, lines.Select((line, index) => (index == 0 ? "" : "  ") + (NeedsEscaping(line) ? Escape(line) : line)));
        }
    }
}
