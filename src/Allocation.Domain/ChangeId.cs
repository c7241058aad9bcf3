using System.Globalization;

namespace Allocation.Domain;

/// <summary>
/// Where an upstream change stands in its source's order, as <c>&lt;milliseconds&gt;-&lt;sequence&gt;</c>
/// (a Redis stream entry's id). A batch applies a change only if it comes after the last one the batch
/// applied, so a change delivered twice, or overtaken by a newer one, never brings an older quantity back.
/// </summary>
public readonly record struct ChangeId(long Milliseconds, long Sequence) : IComparable<ChangeId>
{
    public static bool TryParse(string? text, out ChangeId id)
    {
        id = default;
        var dash = text?.IndexOf('-', StringComparison.Ordinal) ?? -1;

        // Stryker disable once Equality : a dash first leaves no milliseconds, which fail to parse, so "dash < 0" answers the same
        if (dash <= 0
            || !long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            || !long.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            return false;
        }

        id = new ChangeId(milliseconds, sequence);
        return true;
    }

    public int CompareTo(ChangeId other) =>
        Milliseconds != other.Milliseconds ? Milliseconds.CompareTo(other.Milliseconds) : Sequence.CompareTo(other.Sequence);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Milliseconds}-{Sequence}");

    public static bool operator <(ChangeId left, ChangeId right) => left.CompareTo(right) < 0;

    public static bool operator >(ChangeId left, ChangeId right) => left.CompareTo(right) > 0;

    public static bool operator <=(ChangeId left, ChangeId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(ChangeId left, ChangeId right) => left.CompareTo(right) >= 0;
}
