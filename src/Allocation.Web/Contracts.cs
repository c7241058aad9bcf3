using System.Text.Json.Serialization;

namespace Allocation.Web;

// The HTTP wire format of the contract: field names exactly as clients send and read them. JsonBody
// answers 400 for required fields that are absent, null where the type has no null, or of the wrong
// type, reading what is required and nullable from these declarations; what an identifier may be is the
// command validators' business.

public sealed record AddBatchRequest
{
    [JsonRequired, JsonPropertyName("ref")]
    public string Ref { get; init; } = "";

    [JsonRequired, JsonPropertyName("sku")]
    public string Sku { get; init; } = "";

    [JsonRequired, JsonPropertyName("qty")]
    public int Qty { get; init; }

    /// <summary>
    /// YYYY-MM-DD, or null for stock already in the warehouse. Required all the same: a client that forgot
    /// the field must not create a batch that counts as in the warehouse.
    /// </summary>
    [JsonRequired, JsonPropertyName("eta")]
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

public sealed record DeallocateRequest
{
    [JsonRequired, JsonPropertyName("orderid")]
    public string OrderId { get; init; } = "";

    [JsonRequired, JsonPropertyName("sku")]
    public string Sku { get; init; } = "";
}

/// <summary>The batch a line was allocated to (<c>POST /allocate</c>) or left (<c>POST /deallocate</c>).</summary>
public sealed record AllocateResponse([property: JsonPropertyName("batchref")] string BatchRef);

public sealed record AllocationResponse(
    [property: JsonPropertyName("sku")] string Sku,
    [property: JsonPropertyName("batchref")] string BatchRef);

public sealed record BatchStockResponse(
    [property: JsonPropertyName("ref")] string Ref,
    [property: JsonPropertyName("eta")] DateOnly? Eta,
    [property: JsonPropertyName("purchased")] int Purchased,
    [property: JsonPropertyName("allocated")] int Allocated,
    [property: JsonPropertyName("available")] int Available);

/// <summary>A product's batches, in allocation preference order.</summary>
public sealed record ProductResponse(
    [property: JsonPropertyName("sku")] string Sku,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("batches")] BatchStockResponse[] Batches);

public sealed record ProductTotalsResponse(
    [property: JsonPropertyName("sku")] string Sku,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("batches")] int Batches,
    [property: JsonPropertyName("purchased")] long Purchased,
    [property: JsonPropertyName("allocated")] long Allocated,
    [property: JsonPropertyName("available")] long Available);

/// <summary>One page; pass <c>next</c> as <c>after</c> to get the following one. <c>next</c> is null on the last page.</summary>
public sealed record ProductsPage(
    [property: JsonPropertyName("items")] ProductTotalsResponse[] Items,
    [property: JsonPropertyName("next")] string? Next);

public sealed record AllocatedLineResponse(
    [property: JsonPropertyName("orderid")] string OrderId,
    [property: JsonPropertyName("qty")] int Qty);

/// <summary>A batch with one page of its allocated lines, oldest first.</summary>
public sealed record BatchResponse(
    [property: JsonPropertyName("ref")] string Ref,
    [property: JsonPropertyName("sku")] string Sku,
    [property: JsonPropertyName("eta")] DateOnly? Eta,
    [property: JsonPropertyName("purchased")] int Purchased,
    [property: JsonPropertyName("allocated")] int Allocated,
    [property: JsonPropertyName("available")] int Available,
    [property: JsonPropertyName("allocations")] AllocatedLineResponse[] Allocations,
    [property: JsonPropertyName("next")] string? Next);

/// <summary>A dead letter in a list: the start of its payload (<c>preview</c>), its size in bytes and whether it was kept whole.</summary>
public sealed record DeadLetterSummaryResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("preview")] string Preview,
    [property: JsonPropertyName("encoding")] string Encoding,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("truncated")] bool Truncated,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("replayed_at")] DateTimeOffset? ReplayedAt,
    [property: JsonPropertyName("replay_outcome")] string? ReplayOutcome,
    [property: JsonPropertyName("message_id")] string? MessageId);

public sealed record DeadLettersPage(
    [property: JsonPropertyName("items")] DeadLetterSummaryResponse[] Items,
    [property: JsonPropertyName("next")] string? Next);

/// <summary>One dead letter with its whole payload: text, or base64 when its bytes are not UTF-8 (<c>encoding</c>).</summary>
public sealed record DeadLetterResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("payload")] string Payload,
    [property: JsonPropertyName("encoding")] string Encoding,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("truncated")] bool Truncated,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("replayed_at")] DateTimeOffset? ReplayedAt,
    [property: JsonPropertyName("replay_outcome")] string? ReplayOutcome,
    [property: JsonPropertyName("message_id")] string? MessageId);

/// <summary>The outcome of a replay: <c>applied</c>, or <c>refused</c> with the error.</summary>
public sealed record ReplayResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("error")] string? Error);

[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(AddBatchRequest))]
[JsonSerializable(typeof(AllocateRequest))]
[JsonSerializable(typeof(DeallocateRequest))]
[JsonSerializable(typeof(AllocateResponse))]
[JsonSerializable(typeof(AllocationResponse[]))]
[JsonSerializable(typeof(ProductResponse))]
[JsonSerializable(typeof(ProductsPage))]
[JsonSerializable(typeof(BatchResponse))]
[JsonSerializable(typeof(DeadLettersPage))]
[JsonSerializable(typeof(DeadLetterResponse))]
[JsonSerializable(typeof(ReplayResponse))]
internal sealed partial class WireJsonContext : JsonSerializerContext;
