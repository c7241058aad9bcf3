using FluentValidation;

namespace Allocation.Application.Queries;

/// <summary>Page sizes: at least 1; larger requests than <see cref="MaxLimit"/> are capped, not refused.</summary>
public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static int Cap(int? limit) => Math.Min(limit ?? DefaultLimit, MaxLimit);

    public static IRuleBuilderOptions<T, int?> ValidLimit<T>(this IRuleBuilder<T, int?> rule) =>
        rule.GreaterThan(0).WithMessage("'limit' must be a positive integer.");
}
