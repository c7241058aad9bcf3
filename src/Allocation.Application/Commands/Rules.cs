using FluentValidation;

namespace Allocation.Application.Commands;

/// <summary>The contract's field rules, shared by every message that carries these fields.</summary>
public static class Rules
{
    public const int MaxIdentifierLength = 255;

    /// <summary>Order ids, SKUs and references: non-empty strings of at most 255 characters.</summary>
    public static IRuleBuilderOptions<T, string> ValidIdentifier<T>(this IRuleBuilder<T, string> rule) =>
        rule.NotEmpty().MaximumLength(MaxIdentifierLength);

    /// <summary>A message property's name as the contract spells the field (<c>Reference</c> is <c>ref</c>).</summary>
    public static string WireName(string property) => property switch
    {
        "Reference" => "ref",
        _ => property.ToLowerInvariant(),
    };
}
