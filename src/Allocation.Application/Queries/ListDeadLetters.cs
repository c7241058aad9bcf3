using Allocation.Application.Ports;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Queries;

/// <summary>Refused messages, oldest first, keyset-paged by id.</summary>
public sealed record ListDeadLetters(long? After, int? Limit) : IQuery<Page<DeadLetter>>;

public sealed class ListDeadLettersValidator : AbstractValidator<ListDeadLetters>
{
    public ListDeadLettersValidator()
    {
        RuleFor(query => query.Limit).ValidLimit();
        RuleFor(query => query.After).GreaterThanOrEqualTo(0);
    }
}

public sealed class ListDeadLettersHandler(IDeadLetters deadLetters) : IQueryHandler<ListDeadLetters, Page<DeadLetter>>
{
    public ValueTask<Page<DeadLetter>> Handle(ListDeadLetters query, CancellationToken cancellationToken) =>
        deadLetters.ListAsync(query.After, Paging.Cap(query.Limit), cancellationToken);
}
