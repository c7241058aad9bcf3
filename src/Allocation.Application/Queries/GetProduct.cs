using Allocation.Application.Ports;
using Mediator;

namespace Allocation.Application.Queries;

/// <summary>A product's stock, batch by batch in allocation preference order.</summary>
public sealed record GetProduct(string Sku) : IQuery<ProductStock?>;

public sealed class GetProductHandler(IReadModel readModel) : IQueryHandler<GetProduct, ProductStock?>
{
    public ValueTask<ProductStock?> Handle(GetProduct query, CancellationToken cancellationToken) =>
        readModel.ProductAsync(query.Sku, cancellationToken);
}
