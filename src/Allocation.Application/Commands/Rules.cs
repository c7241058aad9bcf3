using System.Buffers;
using System.Text;
using FluentValidation;

namespace Allocation.Application.Commands;

/// <summary>The contract's field rules, shared by every message that carries these fields, whether it came over HTTP or Redis.</summary>
public static class Rules
{
    public const int MaxIdentifierLength = 255;

    /// <summary>
    /// Order ids, SKUs and references (contract rule 8): non-empty, at most 255 characters, and nothing that
    /// could not be read back, as itself, through a read route — so no control characters, and not "." or
    /// "..", which clients resolve away as path segments before the request is sent.
    /// </summary>
    public static IRuleBuilderOptionsConditions<T, string> ValidIdentifier<T>(this IRuleBuilder<T, string> rule) =>
        rule.Custom((value, context) =>
        {
            if (IdentifierProblem(value) is { } problem)
            {
                context.AddFailure($"'{context.DisplayName}' {problem}.");
            }
        });

    /// <summary>A message property's name as the contract spells the field (<c>Reference</c> is <c>ref</c>).</summary>
    public static string WireName(string property) => property switch
    {
        "Reference" => "ref",
        _ => property.ToLowerInvariant(),
    };

    // Why an identifier is refused, or null; the first reason found, in the order a person would fix them.
    private static string? IdentifierProblem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "must not be empty";
        }

        if (!IsValidUtf16(value))
        {
            return "must be valid Unicode text (it has an unpaired surrogate)";
        }

        // The contract counts Unicode code points, as PostgreSQL's varchar does: an emoji is one character.
        var length = value.EnumerateRunes().Count();
        if (length > MaxIdentifierLength)
        {
            return $"must be at most {MaxIdentifierLength} characters long; it has {length}";
        }

        var position = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            position++;
            if (Rune.IsControl(rune))
            {
                return $"must not contain control characters; it has U+{rune.Value:X4} at character {position}";
            }
        }

        if (value is "." or "..")
        {
            return $"must not be \"{value}\": clients resolve it away as a path segment, so it could not be read back";
        }

        return null;
    }

    private static bool IsValidUtf16(string value)
    {
        for (var index = 0; index < value.Length;)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(index), out _, out var consumed) is not OperationStatus.Done)
            {
                return false;
            }

            index += consumed;
        }

        return true;
    }
}
