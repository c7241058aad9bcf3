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
            throw new ValidationException($"{typeof(T).Name} is invalid: {string.Join("; ", failures.Select(failure => failure.ErrorMessage))}", failures);
        }
    }
}
