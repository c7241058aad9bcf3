using Allocation.Domain;
using Allocation.Testing.Properties;

namespace Allocation.UnitTests.Properties;

/// <summary>What the properties check of a product after every step, beside the model's answer and events.</summary>
internal static class StepChecks
{
    public static string At(int number, Step step) => $"after step {number} ({step})";

    /// <summary>Each batch, in the order added, with its details and its lines oldest first, as the model has it.</summary>
    public static void SameBatches(Product product, AllocationModel model, string at) =>
        product.Batches.Select(Describe).ShouldBe(model.BatchesOf(product.Sku).Select(batch => batch.ToString()), $"{at}: the batches and their lines");

    public static string Describe(Batch batch) =>
        ModelBatch.Describe(
            batch.Reference, batch.Sku, batch.Eta, batch.PurchasedQuantity, batch.LastChange?.ToString(), batch.Allocations.Select(line => (line.OrderId, line.Qty)));

    /// <summary>What no step may break, whatever the model says: the rules' guarantees checked on the product alone.</summary>
    public static void Invariants(Product product, string at)
    {
        foreach (var batch in product.Batches)
        {
            batch.AllocatedQuantity.ShouldBeLessThanOrEqualTo(batch.PurchasedQuantity, $"{at}: {batch.Reference} is allocated beyond its purchased quantity");
            batch.AllocatedQuantity.ShouldBe(batch.Allocations.Sum(line => line.Qty), $"{at}: {batch.Reference}'s allocated quantity is not the sum of its lines");
        }

        product.Batches.SelectMany(batch => batch.Allocations).GroupBy(line => line.OrderId).Where(lines => lines.Count() > 1).Select(lines => lines.Key)
            .ShouldBeEmpty($"{at}: an order line is in more than one batch");
    }

    /// <summary>The version moves on with every change, so that optimistic concurrency sees it, and stays when nothing changed.</summary>
    public static void VersionMovesOnWithEveryChange(int before, int after, bool changed, string at)
    {
        if (changed)
        {
            after.ShouldBeGreaterThan(before, $"{at}: the product changed but its version did not move on");
        }
        else
        {
            after.ShouldBe(before, $"{at}: nothing changed but the version moved");
        }
    }
}
