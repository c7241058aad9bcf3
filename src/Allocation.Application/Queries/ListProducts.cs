using Allocation.Application.Commands;
using Allocation.Application.Ports;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Queries;

/// <summary>SKUs with their stock totals, keyset-paged by SKU.</summary>
public sealed record ListProducts(string? After, int? Limit) : IQuery<Page<ProductTotals>>;

public sealed class ListProductsValidator : AbstractValidator<ListProducts>
{
    public ListProductsValidator()
    {
        RuleFor(query => query.Limit).ValidLimit();
        RuleFor(query => query.After!).WithinIdentifierLength().When(query => query.After is not null);
    }
}

public sealed class ListProductsHandler(IReadModel readModel) : IQueryHandler<ListProducts, Page<ProductTotals>>
{
    public ValueTask<Page<ProductTotals>> Handle(ListProducts query, CancellationToken cancellationToken) =>
        readModel.ProductsAsync(query.After, Paging.Cap(query.Limit), cancellationToken);
}
