using Allocation.Application.Commands;
using Allocation.Domain;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Bus;

/// <summary>Refuses a command or query that breaks its validator's rules before any handler sees it.</summary>
public sealed class ValidationBehaviour<TMessage, TResponse>(IEnumerable<IValidator<TMessage>> validators)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    public ValueTask<TResponse> Handle(
        TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        Validation.ThrowIfInvalid(validators, message);
        return next(message, cancellationToken);
    }
}

/// <summary>A message broke its validator's rules; <see cref="Errors"/> are keyed by the contract's field names.</summary>
public sealed class InvalidInputException(string message, IReadOnlyDictionary<string, string[]> errors)
    : RejectedException(message, 400, "Invalid input")
{
    public override IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}

internal static class Validation
{
    public static void ThrowIfInvalid<T>(IEnumerable<IValidator<T>> validators, T message)
    {
        List<FluentValidation.Results.ValidationFailure>? failures = null;
        foreach (var validator in validators)
        {
            var result = validator.Validate(message);
            if (!result.IsValid)
            {
                (failures ??= []).AddRange(result.Errors);
            }
        }

        if (failures is not null)
        {
            throw new InvalidInputException(
                string.Join(" ", failures.Select(failure => failure.ErrorMessage)),
                failures.GroupBy(failure => Rules.WireName(failure.PropertyName))
                    .ToDictionary(group => group.Key, group => group.Select(failure => failure.ErrorMessage).ToArray()));
        }
    }
}
