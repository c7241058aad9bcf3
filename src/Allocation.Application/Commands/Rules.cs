using System.Buffers;
using System.Globalization;
using System.Text;
using FluentValidation;

namespace Allocation.Application.Commands;

/// <summary>The contract's field rules, shared by every message that carries these fields, whether it came over HTTP or Redis.</summary>
public static class Rules
{
    public const int MaxIdentifierLength = 255;

    /// <summary>
    /// Order ids, SKUs and references (contract rule 8): 1 to 255 Unicode code points, and nothing that could
    /// not be read back, as itself, through a read route — so no control characters, and not "." or "..",
    /// which clients resolve away as path segments before the request is sent. Nor what would make two ids
    /// that a person cannot tell apart: white space at either end, no visible character at all, or text
    /// not in Unicode normalization form C (the composed é and e + U+0301 would be two SKUs).
    /// </summary>
    public static IRuleBuilderOptionsConditions<T, string> ValidIdentifier<T>(this IRuleBuilder<T, string> rule) =>
        rule.Custom((value, context) =>
        {
            if (IdentifierProblem(value) is { } problem)
            {
                context.AddFailure($"'{context.DisplayName}' {problem}.");
            }
        });

    /// <summary>At most 255 Unicode code points, counted as identifiers are: for values that name one, such as a paging cursor.</summary>
    public static IRuleBuilderOptionsConditions<T, string> WithinIdentifierLength<T>(this IRuleBuilder<T, string> rule) =>
        rule.Custom((value, context) =>
        {
            if (value is not null && LengthProblem(value) is { } problem)
            {
                context.AddFailure($"'{context.DisplayName}' {problem}.");
            }
        });

    /// <summary>
    /// Whether this process can tell text in normalization form C from other text: not in .NET's
    /// globalization-invariant mode (no ICU), where every string counts as normalized.
    /// </summary>
    public static bool ChecksNormalization { get; } = !"e\u0301".IsNormalized(NormalizationForm.FormC);

    /// <summary>
    /// What may leave the service as a line message (<c>line_allocated</c>, <c>line_deallocated</c>): the
    /// order, SKU and batch are valid identifiers and the quantity is positive.
    /// </summary>
    public static void ValidLineMessage<T>(
        this AbstractValidator<T> validator,
        System.Linq.Expressions.Expression<Func<T, string>> orderId,
        System.Linq.Expressions.Expression<Func<T, string>> sku,
        System.Linq.Expressions.Expression<Func<T, string>> batchReference,
        System.Linq.Expressions.Expression<Func<T, int>> qty)
    {
        validator.RuleFor(orderId).ValidIdentifier();
        validator.RuleFor(sku).ValidIdentifier();
        validator.RuleFor(batchReference).ValidIdentifier();
        validator.RuleFor(qty).GreaterThan(0);
    }

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

        if (LengthProblem(value) is { } tooLong)
        {
            return tooLong;
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

        if (!value.EnumerateRunes().Any(IsVisible))
        {
            return "must have a visible character; it has only white space or invisible characters";
        }

        Rune.DecodeFromUtf16(value, out var first, out _);
        Rune.DecodeLastFromUtf16(value, out var last, out _);
        if (Rune.IsWhiteSpace(first) || Rune.IsWhiteSpace(last))
        {
            return "must not begin or end with white space";
        }

        if (!value.IsNormalized(NormalizationForm.FormC))
        {
            return "must be in Unicode normalization form C (NFC); normalize it before sending";
        }

        if (value is "." or "..")
        {
            return $"must not be \"{value}\": clients resolve it away as a path segment, so it could not be read back";
        }

        return null;
    }

    // The contract counts Unicode code points, as PostgreSQL's varchar does: an emoji is one character.
    private static string? LengthProblem(string value)
    {
        var length = value.EnumerateRunes().Count();
        return length > MaxIdentifierLength ? $"must be at most {MaxIdentifierLength} characters long; it has {length}" : null;
    }

    // Shows as something: not white space, a control, a format character (zero-width space, joiners,
    // direction marks), a combining mark on its own, or one of the letters that render as blank.
    private static bool IsVisible(Rune rune) =>
        !Rune.IsWhiteSpace(rune)
        && Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark)
        && rune.Value is not (0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800);

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
