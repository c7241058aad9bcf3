using Allocation.Application.Ports;
using Allocation.Domain;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Commands;

/// <summary>
/// Sets a batch's purchased quantity; lines that no longer fit are deallocated and allocated again.
/// <see cref="ChangeId"/> (a stream entry's id) keeps a repeated or overtaken change from bringing back an older quantity.
/// </summary>
public sealed record ChangeBatchQuantity(string Reference, int Qty, string? ChangeId = null) : ICommand;

public sealed class ChangeBatchQuantityValidator : AbstractValidator<ChangeBatchQuantity>
{
    public ChangeBatchQuantityValidator()
    {
        RuleFor(command => command.Reference).ValidIdentifier();
        RuleFor(command => command.Qty).GreaterThanOrEqualTo(0);
        RuleFor(command => command.ChangeId)
            .Must(id => Domain.ChangeId.TryParse(id, out _))
            .When(command => command.ChangeId is not null)
            .WithMessage("'change id' must be <milliseconds>-<sequence>, as a stream entry's id.");
    }
}

public sealed class ChangeBatchQuantityHandler(IUnitOfWork uow) : ICommandHandler<ChangeBatchQuantity>
{
    public async ValueTask<Unit> Handle(ChangeBatchQuantity command, CancellationToken cancellationToken)
    {
        var product = await uow.Products.GetForBatchChangeAsync(command.Reference, command.Qty, cancellationToken)
            ?? throw new UnknownBatchException(command.Reference);

        product.ChangeBatchQuantity(
            command.Reference, command.Qty, Domain.ChangeId.TryParse(command.ChangeId, out var change) ? change : null);
        await uow.CommitAsync(cancellationToken);
        return Unit.Value;
    }
}
