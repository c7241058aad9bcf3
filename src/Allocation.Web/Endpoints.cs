using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Application.Queries;
using Mediator;

namespace Allocation.Web;

/// <summary>The HTTP routes, each a thin mapping onto one command or query.</summary>
public static class Endpoints
{
    public static IEndpointRouteBuilder MapAllocationEndpoints(this IEndpointRouteBuilder app, SecurityOptions security)
    {
        var writes = app.MapGroup("").WithTags("Allocation").RequireApiKey(security, isRead: false);

        writes.MapPost("/add_batch", async (HttpRequest request, ISender sender, CancellationToken cancellationToken) =>
            {
                var body = await JsonBody.ReadAsync(request, WireJsonContext.Default.AddBatchRequest, cancellationToken);
                await sender.Send(new CreateBatch(body.Ref, body.Sku, body.Qty, body.Eta), cancellationToken);
                return TypedResults.Created($"/batches/{Uri.EscapeDataString(body.Ref)}");
            })
            .Accepts<AddBatchRequest>(JsonBody.MediaType)
            .WithName("AddBatch")
            .WithSummary("Add a batch")
            .WithDescription("Adds a batch of stock; creates the product for a new SKU. Every key is required; an `eta` of null is stock already in the warehouse. Re-posting an identical batch changes nothing; the same `ref` with other details is a conflict.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        writes.MapPost("/allocate", async (HttpRequest request, ISender sender, CancellationToken cancellationToken) =>
            {
                var body = await JsonBody.ReadAsync(request, WireJsonContext.Default.AllocateRequest, cancellationToken);
                var batchRef = await sender.Send(new Allocate(body.OrderId, body.Sku, body.Qty), cancellationToken);
                return TypedResults.Created($"/allocations/{Uri.EscapeDataString(body.OrderId)}", new AllocateResponse(batchRef));
            })
            .Accepts<AllocateRequest>(JsonBody.MediaType)
            .WithName("Allocate")
            .WithSummary("Allocate an order line")
            .WithDescription("Allocates an order line, whole, to the preferred batch that can take it: warehouse stock first, then by eta. Allocating the same line again with the same qty answers as the first time.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        writes.MapPost("/deallocate", async (HttpRequest request, ISender sender, CancellationToken cancellationToken) =>
            {
                var body = await JsonBody.ReadAsync(request, WireJsonContext.Default.DeallocateRequest, cancellationToken);
                return TypedResults.Ok(new AllocateResponse(await sender.Send(new Deallocate(body.OrderId, body.Sku), cancellationToken)));
            })
            .Accepts<DeallocateRequest>(JsonBody.MediaType)
            .WithName("Deallocate")
            .WithSummary("Cancel an order line")
            .WithDescription("Cancels an allocated order line: its stock goes back to its batch, and line_deallocated is published. Answers the batch it left.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        var reads = app.MapGroup("").WithTags("Stock").RequireApiKey(security, isRead: true);

        reads.MapGet("/allocations/{orderid}", async Task<IResult> (string orderid, ISender sender, CancellationToken cancellationToken) =>
            {
                var allocations = await sender.Send(new GetAllocations(orderid), cancellationToken);
                return allocations.Count == 0
                    ? Problems.NotFound($"Order {orderid} has no allocation")
                    : TypedResults.Ok(allocations.Select(allocation => new AllocationResponse(allocation.Sku, allocation.BatchRef)).ToArray());
            })
            .WithName("GetAllocations")
            .WithSummary("Get an order's allocations")
            .WithDescription("Where each line of an order is allocated: its sku and batch reference.")
            .Produces<AllocationResponse[]>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        reads.MapGet("/products/{sku}", async Task<IResult> (string sku, ISender sender, CancellationToken cancellationToken) =>
                await sender.Send(new GetProduct(sku), cancellationToken) is { } product
                    ? TypedResults.Ok(new ProductResponse(product.Sku, product.Version, product.Batches.Select(ToResponse).ToArray()))
                    : Problems.NotFound($"No product with sku {sku}"))
            .WithName("GetProduct")
            .WithSummary("Get a product's stock")
            .WithDescription("A product's batches in allocation preference order, with purchased, allocated and available quantities.")
            .Produces<ProductResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        reads.MapGet("/products", async (string? after, int? limit, ISender sender, CancellationToken cancellationToken) =>
            {
                var page = await sender.Send(new ListProducts(after, limit), cancellationToken);
                return TypedResults.Ok(new ProductsPage(
                    page.Items.Select(item => new ProductTotalsResponse(item.Sku, item.Version, item.Batches, item.Purchased, item.Allocated, item.Available)).ToArray(),
                    page.Next));
            })
            .WithName("ListProducts")
            .WithSummary("List products")
            .WithDescription($"SKUs with stock totals, in SKU order; page with ?after=<next>&limit=<n> (default {Paging.DefaultLimit}, at most {Paging.MaxLimit}).")
            .ProducesValidationProblem();

        reads.MapGet("/batches/{ref}", async Task<IResult> (string @ref, long? after, int? limit, ISender sender, CancellationToken cancellationToken) =>
            {
                if (await sender.Send(new GetBatch(@ref, after, limit), cancellationToken) is not { } batch)
                {
                    return Problems.NotFound($"No batch {@ref}");
                }

                var stock = batch.Batch;
                return TypedResults.Ok(new BatchResponse(
                    stock.Reference, batch.Sku, stock.Eta, stock.Purchased, stock.Allocated, stock.Available,
                    batch.Allocations.Items.Select(line => new AllocatedLineResponse(line.OrderId, line.Qty)).ToArray(),
                    batch.Allocations.Next));
            })
            .WithName("GetBatch")
            .WithSummary("Get a batch")
            .WithDescription("A batch and its allocated order lines, oldest first; page with ?after=<next>&limit=<n>.")
            .Produces<BatchResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        var deadLetters = app.MapGroup("/dead-letters").WithTags("Operations").RequireApiKey(security, isRead: false);

        deadLetters.MapGet("", async (long? after, int? limit, ISender sender, CancellationToken cancellationToken) =>
            {
                var page = await sender.Send(new ListDeadLetters(after, limit), cancellationToken);
                return TypedResults.Ok(new DeadLettersPage(page.Items.Select(ToResponse).ToArray(), page.Next));
            })
            .WithName("ListDeadLetters")
            .WithSummary("List dead letters")
            .WithDescription("Messages the service refused and events it gave up on, oldest first, with why and any replay outcome; each shows the start of its payload and its size.")
            .ProducesValidationProblem();

        deadLetters.MapGet("/{id:long}", async (long id, ISender sender, CancellationToken cancellationToken) =>
                TypedResults.Ok(ToResponse(await sender.Send(new GetDeadLetter(id), cancellationToken))))
            .WithName("GetDeadLetter")
            .WithSummary("Read a dead letter")
            .WithDescription("One dead letter with its whole payload (as text, or base64 when its bytes are not UTF-8), its size and whether it was truncated.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        deadLetters.MapPost("/{id:long}/replay", async (long id, ISender sender, CancellationToken cancellationToken) =>
            {
                var outcome = await sender.Send(new ReplayDeadLetter(id), cancellationToken);
                return TypedResults.Ok(new ReplayResponse(id, outcome.WasApplied ? "applied" : "refused", outcome.Error));
            })
            .WithName("ReplayDeadLetter")
            .WithSummary("Replay a dead letter")
            .WithDescription("Sends a dead letter through again: a refused inbound message (after the upstream data was fixed) or an outbound event the outbox gave up on; the outcome is recorded.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        return app;
    }

    private static BatchStockResponse ToResponse(BatchStock batch) =>
        new(batch.Reference, batch.Eta, batch.Purchased, batch.Allocated, batch.Available);

    private static DeadLetterSummaryResponse ToResponse(DeadLetterSummary item) =>
        new(item.Id, item.Source, item.Preview, item.PayloadEncoding, item.Size, item.Truncated, item.Error, item.CreatedAt, item.ReplayedAt, item.ReplayOutcome, item.MessageId);

    private static DeadLetterResponse ToResponse(DeadLetter letter) =>
        new(letter.Id, letter.Source, letter.Payload, letter.PayloadEncoding, letter.Size, letter.Truncated, letter.Error, letter.CreatedAt, letter.ReplayedAt, letter.ReplayOutcome, letter.MessageId);
}
