using Allocation.Application.Ports;
using Allocation.Domain;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Commands;

/// <summary>Allocates an order line; answers the batch reference.</summary>
public sealed record Allocate(string OrderId, string Sku, int Qty) : ICommand<string>;

public sealed class AllocateValidator : AbstractValidator<Allocate>
{
    public AllocateValidator()
    {
        RuleFor(command => command.OrderId).ValidIdentifier();
        RuleFor(command => command.Sku).ValidIdentifier();
        RuleFor(command => command.Qty).GreaterThan(0);
    }
}

public sealed class AllocateHandler(IUnitOfWork uow) : ICommandHandler<Allocate, string>
{
    public async ValueTask<string> Handle(Allocate command, CancellationToken cancellationToken)
    {
        var product = await uow.Products.GetForOrderLineAsync(command.Sku, command.OrderId, cancellationToken)
            ?? throw new InvalidSkuException(command.Sku);

        var batchReference = product.Allocate(new OrderLine(command.OrderId, command.Sku, command.Qty));
        await uow.CommitAsync(cancellationToken);

        // Committed first even when out of stock: the OutOfStock event must reach the stock team.
        return batchReference ?? throw new OutOfStockException(command.Sku);
    }
}
