using Allocation.Application.Ports;
using Allocation.Domain;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Commands;

/// <summary>Sets a batch's purchased quantity; lines that no longer fit are deallocated and allocated again.</summary>
public sealed record ChangeBatchQuantity(string Reference, int Qty) : ICommand;

public sealed class ChangeBatchQuantityValidator : AbstractValidator<ChangeBatchQuantity>
{
    public ChangeBatchQuantityValidator()
    {
        RuleFor(command => command.Reference).ValidIdentifier();
        RuleFor(command => command.Qty).GreaterThanOrEqualTo(0);
    }
}

public sealed class ChangeBatchQuantityHandler(IUnitOfWork uow) : ICommandHandler<ChangeBatchQuantity>
{
    public async ValueTask<Unit> Handle(ChangeBatchQuantity command, CancellationToken cancellationToken)
    {
        var product = await uow.Products.GetForBatchChangeAsync(command.Reference, command.Qty, cancellationToken)
            ?? throw new UnknownBatchException(command.Reference);

        product.ChangeBatchQuantity(command.Reference, command.Qty);
        await uow.CommitAsync(cancellationToken);
        return Unit.Value;
    }
}
