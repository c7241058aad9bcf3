using Allocation.Application.Ports;
using Allocation.Domain;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Commands;

/// <summary>Adds a batch of stock, creating the product for a new SKU.</summary>
public sealed record CreateBatch(string Reference, string Sku, int Qty, DateOnly? Eta = null) : ICommand;

public sealed class CreateBatchValidator : AbstractValidator<CreateBatch>
{
    public CreateBatchValidator()
    {
        RuleFor(command => command.Reference).ValidIdentifier();
        RuleFor(command => command.Sku).ValidIdentifier();
        RuleFor(command => command.Qty).GreaterThanOrEqualTo(0);
    }
}

public sealed class CreateBatchHandler(IUnitOfWork uow) : ICommandHandler<CreateBatch>
{
    public async ValueTask<Unit> Handle(CreateBatch command, CancellationToken cancellationToken)
    {
        // References are unique across SKUs, which no single product can check.
        var owner = await uow.Products.FindSkuOfBatchAsync(command.Reference, cancellationToken);
        if (owner is not null && owner != command.Sku)
        {
            throw new BatchConflictException(command.Reference, $"for sku {owner}");
        }

        var product = await uow.Products.GetAsync(command.Sku, cancellationToken);
        if (product is null)
        {
            product = new Product(command.Sku);
            uow.Products.Add(product);
        }

        product.AddBatch(command.Reference, command.Qty, command.Eta);
        await uow.CommitAsync(cancellationToken);
        return Unit.Value;
    }
}
