using Allocation.Domain;
using CsCheck;

namespace Allocation.Testing.Properties;

/// <summary>
/// The names steps choose from. The pools are small on purpose, so that random sequences keep meeting
/// the interesting cases: the same order twice, a batch of another SKU under a taken reference, a full
/// batch, equal etas, a repeated or older change id.
/// </summary>
/// <param name="UnknownSkus">SKUs no batch is ever added for.</param>
/// <param name="CancelsOfUnknownSkus">Whether cancellations name the unknown SKUs too: a product cannot be asked about another SKU's line.</param>
public sealed record StepPools(string[] Skus, string[] UnknownSkus, string[] References, string[] Orders, bool CancelsOfUnknownSkus = true)
{
    /// <summary>One product, as the domain tests hold it, and one SKU that is not its own.</summary>
    public static StepPools OneProduct { get; } = new(
        ["RED-CHAIR"], ["BLUE-VASE"], ["batch-1", "batch-2", "batch-3", "batch-4"], ["order-1", "order-2", "order-3", "order-4", "order-5"], CancelsOfUnknownSkus: false);

    /// <summary>Two products sharing the pool of references (references are unique across SKUs), and a SKU with none.</summary>
    public static StepPools TwoProducts { get; } = new(
        ["RED-CHAIR", "BLUE-VASE"], ["NO-SUCH-SKU"], ["batch-1", "batch-2", "batch-3", "batch-4", "batch-5"], ["order-1", "order-2", "order-3", "order-4"]);
}

public static class StepGenerators
{
    private static readonly DateOnly Today = new(2025, 6, 1);

    /// <summary>Null (in the warehouse) or one of three days, so that etas are often equal.</summary>
    public static Gen<DateOnly?> Eta { get; } = Gen.Int[0, 3].Select(day => day == 0 ? (DateOnly?)null : Today.AddDays(day));

    /// <summary>Often no id; else a small one, so that ids are as often repeated or older as newer.</summary>
    public static Gen<ChangeId?> ChangeIds { get; } =
        Gen.Select(Gen.Int[0, 4], Gen.Int[1, 3], Gen.Int[0, 1], (kind, milliseconds, sequence) => kind < 2 ? (ChangeId?)null : new ChangeId(milliseconds, sequence));

    public static Gen<Step> Steps(StepPools pools)
    {
        var sku = OneOf(pools.Skus);
        var anySku = OneOf([.. pools.Skus, .. pools.UnknownSkus]);
        var reference = OneOf(pools.References);
        var order = OneOf(pools.Orders);

        var anyBatch = Gen.Select(reference, sku, Gen.Int[0, 12], Eta, (r, s, qty, eta) => (Step)new AddBatch(r, s, qty, eta));

        // Random details rarely repeat a batch exactly; a reference's usual details make a re-post of the same batch common.
        var usualBatch = Gen.Int[0, pools.References.Length - 1].Select(index => (Step)new AddBatch(
            pools.References[index], pools.Skus[index % pools.Skus.Length], 4 + (3 * index % 9), index % 3 == 0 ? null : Today.AddDays(index % 3)));
        var add = Gen.Frequency((2, anyBatch), (1, usualBatch));
        var allocate = Gen.Select(order, Gen.Frequency((6, sku), (1, anySku)), Gen.Int[1, 8], (o, s, qty) => (Step)new AllocateLine(o, s, qty));
        var change = Gen.Select(reference, Gen.Int[0, 12], ChangeIds, (r, qty, id) => (Step)new ChangeQuantity(r, qty, id));
        var cancel = Gen.Select(order, pools.CancelsOfUnknownSkus ? Gen.Frequency((6, sku), (1, anySku)) : sku, (o, s) => (Step)new CancelLine(o, s));
        return Gen.Frequency((3, add), (6, allocate), (3, change), (2, cancel));
    }

    /// <summary>Sequences of 1 to <paramref name="maxLength"/> steps; they shrink towards fewer, simpler steps.</summary>
    public static Gen<Step[]> Sequences(StepPools pools, int maxLength) => Steps(pools).Array[1, maxLength];

    /// <summary>
    /// Sequences that begin with a batch of the pools' first SKU: a product exists once its first batch
    /// is added, and the domain tests start from that product.
    /// </summary>
    public static Gen<Step[]> SequencesOfOneProduct(StepPools pools, int maxLength) =>
        Gen.Select(
            Gen.Int[0, 12], Eta, Sequences(pools, maxLength - 1),
            (qty, eta, rest) => (Step[])[new AddBatch(pools.References[0], pools.Skus[0], qty, eta), .. rest]);

    /// <summary>A sequence as numbered lines, the way a failure is reported.</summary>
    public static string Print(IReadOnlyList<Step> steps) =>
        Environment.NewLine + string.Join(Environment.NewLine, steps.Select((step, index) => $"  {index + 1,2}. {step}"));

    private static Gen<string> OneOf(string[] values) => Gen.Int[0, values.Length - 1].Select(index => values[index]);
}
