using System.Text.Json.Serialization;

namespace Allocation.Web;

// The HTTP wire format of the contract: field names exactly as clients send and read them. Required
// fields that are absent, null where a number is due, or of the wrong type fail deserialization and
// are answered 400; empty or over-long strings are caught by the command validators.

public sealed record AddBatchRequest
{
    [JsonRequired, JsonPropertyName("ref")]
    public string Ref { get; init; } = "";

    [JsonRequired, JsonPropertyName("sku")]
    public string Sku { get; init; } = "";

    [JsonRequired, JsonPropertyName("qty")]
    public int Qty { get; init; }

    /// <summary>YYYY-MM-DD, or null for stock already in the warehouse.</summary>
    [JsonPropertyName("eta")]
    public DateOnly? Eta { get; init; }
}

public sealed record AllocateRequest
{
    [JsonRequired, JsonPropertyName("orderid")]
    public string OrderId { get; init; } = "";

    [JsonRequired, JsonPropertyName("sku")]
    public string Sku { get; init; } = "";

    [JsonRequired, JsonPropertyName("qty")]
    public int Qty { get; init; }
}

public sealed record AllocateResponse([property: JsonPropertyName("batchref")] string BatchRef);

public sealed record AllocationResponse(
    [property: JsonPropertyName("sku")] string Sku,
    [property: JsonPropertyName("batchref")] string BatchRef);

[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(AddBatchRequest))]
[JsonSerializable(typeof(AllocateRequest))]
[JsonSerializable(typeof(AllocateResponse))]
[JsonSerializable(typeof(AllocationResponse[]))]
internal sealed partial class WireJsonContext : JsonSerializerContext;
