using Allocation.Application.Commands;
using Allocation.Application.Queries;
using Mediator;

namespace Allocation.Web;

/// <summary>The HTTP routes, each a thin mapping onto one command or query.</summary>
public static class Endpoints
{
    public static IEndpointRouteBuilder MapAllocationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/add_batch", async (AddBatchRequest body, ISender sender, CancellationToken cancellationToken) =>
            {
                await sender.Send(new CreateBatch(body.Ref, body.Sku, body.Qty, body.Eta), cancellationToken);
                return TypedResults.Created($"/batches/{Uri.EscapeDataString(body.Ref)}");
            })
            .WithName("AddBatch");

        app.MapPost("/allocate", async (AllocateRequest body, ISender sender, CancellationToken cancellationToken) =>
            {
                var batchRef = await sender.Send(new Allocate(body.OrderId, body.Sku, body.Qty), cancellationToken);
                return TypedResults.Created($"/allocations/{Uri.EscapeDataString(body.OrderId)}", new AllocateResponse(batchRef));
            })
            .WithName("Allocate");

        app.MapGet("/allocations/{orderid}", async Task<IResult> (string orderid, ISender sender, CancellationToken cancellationToken) =>
            {
                var allocations = await sender.Send(new GetAllocations(orderid), cancellationToken);
                return allocations.Count == 0
                    ? Problems.NotFound($"Order {orderid} has no allocation")
                    : TypedResults.Ok(allocations.Select(allocation => new AllocationResponse(allocation.Sku, allocation.BatchRef)).ToArray());
            })
            .WithName("GetAllocations");

        return app;
    }
}
