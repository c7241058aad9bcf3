using System.Buffers;
using System.Text.Json;
using Allocation.Application.Commands;
using Allocation.Application.Ports;

namespace Allocation.Infrastructure.Redis;

/// <summary>The contract's Redis payloads, written and read field by field so that names and types are exact.</summary>
internal static class Wire
{
    /// <summary>The one field of a stream entry: the same JSON as the pub/sub message.</summary>
    public const string StreamPayloadField = "payload";

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    public static byte[] Serialize(LineMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(192);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("orderid", message.OrderId);
            writer.WriteString("sku", message.Sku);
            writer.WriteNumber("qty", message.Qty);
            writer.WriteString("batchref", message.BatchRef);
            writer.WriteString("message_id", message.MessageId);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><c>{"batchref": str, "qty": int}</c>; other fields are ignored.</summary>
    /// <exception cref="InvalidMessageException">The payload is not that shape.</exception>
    public static ChangeBatchQuantity ParseChangeBatchQuantity(ReadOnlyMemory<byte> payload)
    {
        using var document = Parse(payload);
        var root = document.RootElement;
        var command = new ChangeBatchQuantity(RequiredString(root, "batchref"), RequiredInt(root, "qty"));

        // The reader checks UTF-8 only in what it decodes, so a broken byte elsewhere (an ignored field, a key)
        // would pass: a payload is JSON only if all of it is UTF-8 (RFC 8259), as an HTTP body must be.
        if (System.Text.Unicode.Utf8.IsValid(payload.Span))
        {
            return command;
        }

        var valid = 0;
        while (System.Text.Rune.DecodeFromUtf8(payload.Span[valid..], out _, out var consumed) is OperationStatus.Done)
        {
            valid += consumed;
        }

        throw new InvalidMessageException($"payload is not valid UTF-8 (byte {valid + 1} is not)");
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> payload)
    {
        // A UTF-8 byte order mark is accepted, as HTTP accepts it.
        if (payload.Span.StartsWith(Bom))
        {
            payload = payload[Bom.Length..];
        }

        try
        {
            var document = JsonDocument.Parse(payload);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new InvalidMessageException("payload must be a JSON object");
            }

            return document;
        }
        catch (JsonException exception)
        {
            throw new InvalidMessageException($"payload is not valid JSON: {exception.Message}");
        }
    }

    private static string RequiredString(JsonElement root, string name)
    {
        if (Required(root, name) is not { ValueKind: JsonValueKind.String } value)
        {
            throw new InvalidMessageException($"field '{name}' must be a string");
        }

        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // Bytes that are not UTF-8, or an escaped half of a surrogate pair: not text.
            throw new InvalidMessageException($"field '{name}' is not valid text (its UTF-8 or \\u escapes are broken)");
        }
    }

    private static int RequiredInt(JsonElement root, string name) =>
        Required(root, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out var number)
            ? number
            : throw new InvalidMessageException($"field '{name}' must be an integer");

    private static JsonElement Required(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new InvalidMessageException($"field '{name}' is missing");
}

/// <summary>An inbound message that cannot be turned into a command.</summary>
public sealed class InvalidMessageException(string message) : Exception(message);
