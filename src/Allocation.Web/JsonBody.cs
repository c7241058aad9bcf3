using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Allocation.Application.Bus;

namespace Allocation.Web;

/// <summary>
/// Reads a write's JSON body into its request record. What is not one is refused with what a person can
/// act on, found from the bytes and the record's JSON contract rather than from the serializer's messages:
/// no body, bytes that are not UTF-8, text that is not JSON, JSON that is not an object, and each missing,
/// repeated or wrongly typed key by its field name. Every refusal is an <see cref="InvalidInputException"/>,
/// answered where every other invalid input is (<see cref="Problems.For"/>).
/// </summary>
internal static class JsonBody
{
    public const string MediaType = "application/json";

    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> contract, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            throw new BadHttpRequestException($"The request body must be JSON, sent as Content-Type: {MediaType}.", StatusCodes.Status415UnsupportedMediaType);
        }

        // The body limit (BodyLimit, and Kestrel behind it) applies while reading: past it, this throws 413.
        using var buffer = new MemoryStream((int)Math.Clamp(request.ContentLength ?? 0, 256, 64 * 1024));
        await request.Body.CopyToAsync(buffer, cancellationToken);
        ReadOnlyMemory<byte> bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);

        // Some editors and Windows tools start UTF-8 with a byte order mark; it says nothing, so it is skipped.
        if (bytes.Span.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }

        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw Invalid("body", "A JSON body is required.");
        }

        if (!Utf8.IsValid(bytes.Span))
        {
            throw Invalid("body", $"The request body is not valid UTF-8 (byte {FirstInvalidByte(bytes.Span) + 1} is not).");
        }

        using var document = Parse(bytes);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("body", $"The request body must be a JSON object, not {Describe(root.ValueKind)}.");
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var property in contract.Properties)
        {
            // The serializer reads every occurrence of a key, the check below only the last: a field given twice is
            // refused rather than read one way and checked another.
            var occurrences = root.EnumerateObject().Count(member => member.NameEquals(property.Name));
            if (occurrences > 1)
            {
                errors[property.Name] = [$"'{property.Name}' must be given once; it is given {occurrences} times."];
            }
            else if (!root.TryGetProperty(property.Name, out var value))
            {
                if (property.IsRequired)
                {
                    errors[property.Name] = [$"'{property.Name}' is required."];
                }
            }
            else if (!Fits(value, property, contract.Options))
            {
                errors[property.Name] = [$"'{property.Name}' must be {Expected(property)}."];
            }
        }

        if (errors.Count > 0)
        {
            throw new InvalidInputException(string.Join(" ", errors.Values.SelectMany(messages => messages)), errors);
        }

        return root.Deserialize(contract)!;
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException json)
        {
            throw Invalid("body", $"The request body is not valid JSON (line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1}).");
        }
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        var index = 0;
        while (System.Text.Rune.DecodeFromUtf8(bytes[index..], out _, out var consumed) is OperationStatus.Done)
        {
            index += consumed;
        }

        return index;
    }

    private static bool Fits(JsonElement value, JsonPropertyInfo property, JsonSerializerOptions options)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return property.IsSetNullable;
        }

        try
        {
            value.Deserialize(options.GetTypeInfo(property.PropertyType));
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // What a field must be, in the contract's words, from its type: no .NET type names reach the client.
    private static string Expected(JsonPropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var expected = type == typeof(int) ? "an integer"
            : type == typeof(string) ? "a string"
            : type == typeof(DateOnly) ? "a date (YYYY-MM-DD)"
            : "of another type";
        return property.IsSetNullable ? $"{expected} or null" : expected;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => "true or false",
    };

    private static InvalidInputException Invalid(string field, string message) =>
        new(message, new Dictionary<string, string[]> { [field] = [message] });
}
