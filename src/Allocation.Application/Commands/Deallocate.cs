using Allocation.Application.Ports;
using Allocation.Domain;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Commands;

/// <summary>Cancels an allocated order line; answers the reference of the batch it left.</summary>
public sealed record Deallocate(string OrderId, string Sku) : ICommand<string>;

public sealed class DeallocateValidator : AbstractValidator<Deallocate>
{
    public DeallocateValidator()
    {
        RuleFor(command => command.OrderId).ValidIdentifier();
        RuleFor(command => command.Sku).ValidIdentifier();
    }
}

public sealed class DeallocateHandler(IUnitOfWork uow) : ICommandHandler<Deallocate, string>
{
    public async ValueTask<string> Handle(Deallocate command, CancellationToken cancellationToken)
    {
        var product = await uow.Products.GetForOrderLineAsync(command.Sku, command.OrderId, cancellationToken)
            ?? throw new LineNotAllocatedException(command.OrderId, command.Sku);

        var batchReference = product.Deallocate(command.OrderId);
        await uow.CommitAsync(cancellationToken);
        return batchReference;
    }
}
