using Allocation.Application.Ports;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Queries;

/// <summary>A batch and a page of the order lines allocated to it; <see cref="After"/> is the previous page's cursor.</summary>
public sealed record GetBatch(string Reference, long? After, int? Limit) : IQuery<BatchLines?>;

public sealed class GetBatchValidator : AbstractValidator<GetBatch>
{
    public GetBatchValidator()
    {
        RuleFor(query => query.Limit).ValidLimit();
        RuleFor(query => query.After).GreaterThanOrEqualTo(0);
    }
}

public sealed class GetBatchHandler(IReadModel readModel) : IQueryHandler<GetBatch, BatchLines?>
{
    public ValueTask<BatchLines?> Handle(GetBatch query, CancellationToken cancellationToken) =>
        readModel.BatchAsync(query.Reference, query.After, Paging.Cap(query.Limit), cancellationToken);
}
