using Allocation.Application.Commands;
using Allocation.Application.Ports;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Queries;

/// <summary>Refused messages, oldest first, keyset-paged by id, each with a preview of its payload.</summary>
public sealed record ListDeadLetters(long? After, int? Limit) : IQuery<Page<DeadLetterSummary>>;

public sealed class ListDeadLettersValidator : AbstractValidator<ListDeadLetters>
{
    public ListDeadLettersValidator()
    {
        RuleFor(query => query.Limit).ValidLimit();
        RuleFor(query => query.After).GreaterThanOrEqualTo(0);
    }
}

public sealed class ListDeadLettersHandler(IDeadLetters deadLetters) : IQueryHandler<ListDeadLetters, Page<DeadLetterSummary>>
{
    public ValueTask<Page<DeadLetterSummary>> Handle(ListDeadLetters query, CancellationToken cancellationToken) =>
        deadLetters.ListAsync(query.After, Paging.Cap(query.Limit), cancellationToken);
}

/// <summary>One dead letter with its whole payload.</summary>
public sealed record GetDeadLetter(long Id) : IQuery<DeadLetter>;

public sealed class GetDeadLetterHandler(IDeadLetters deadLetters) : IQueryHandler<GetDeadLetter, DeadLetter>
{
    public async ValueTask<DeadLetter> Handle(GetDeadLetter query, CancellationToken cancellationToken) =>
        await deadLetters.GetAsync(query.Id, cancellationToken) ?? throw new UnknownDeadLetterException(query.Id);
}
