using Allocation.Application.Ports;
using Mediator;

namespace Allocation.Application.Queries;

/// <summary>Where each line of an order was allocated, from the read model.</summary>
public sealed record GetAllocations(string OrderId) : IQuery<IReadOnlyList<OrderAllocation>>;

public sealed class GetAllocationsHandler(IReadModel readModel) : IQueryHandler<GetAllocations, IReadOnlyList<OrderAllocation>>
{
    public ValueTask<IReadOnlyList<OrderAllocation>> Handle(GetAllocations query, CancellationToken cancellationToken) =>
        readModel.AllocationsForOrderAsync(query.OrderId, cancellationToken);
}
