using Allocation.Domain;
using Allocation.Testing.Properties;
using Mediator;

namespace Allocation.UnitTests.Properties;

/// <summary>
/// Random sequences of steps against one <see cref="Product"/>, held after every step to the reference
/// model (<see cref="AllocationModel"/>) and to the invariants no step may break. A failure shrinks to
/// the shortest, simplest sequence that still fails and is printed step by step with its seed.
/// </summary>
public class ProductProperties
{
    private static readonly StepPools Pools = StepPools.OneProduct;

    [Test]
    public void EveryStepOnAProductAnswersRaisesAndLeavesWhatTheRulesSay()
    {
        StepGenerators.SequencesOfOneProduct(Pools, maxLength: 30)
            .Check(RunAgainstTheModel, cases: 1_000, StepGenerators.Print, TestContext.Out.WriteLine);
    }

    private static void RunAgainstTheModel(Step[] steps)
    {
        var sku = Pools.Skus[0];
        var product = new Product(sku);
        var model = new AllocationModel();
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var version = product.VersionNumber;
            var stateBefore = model.StateOf(sku);

            var expected = model.Apply(step);
            var actual = Act(product, step);

            var at = StepChecks.At(i + 1, step);
            actual.Answer.ShouldBe(expected.ToString(), at);
            actual.Events.ShouldBe(expected.Events, $"{at}: the events raised");
            StepChecks.SameBatches(product, model, at);
            StepChecks.Invariants(product, at);
            StepChecks.VersionMovesOnWithEveryChange(version, product.VersionNumber, changed: model.StateOf(sku) != stateBefore, at);
        }
    }

    // What the product answered and raised.
    private static Actual Act(Product product, Step step)
    {
        string? batchRef = null;
        var outOfStock = false;
        try
        {
            switch (step)
            {
                case AddBatch add:
                    product.AddBatch(add.Reference, add.Qty, add.Eta);
                    break;
                case AllocateLine allocate:
                    batchRef = product.Allocate(new OrderLine(allocate.OrderId, allocate.Sku, allocate.Qty));
                    outOfStock = batchRef is null;
                    break;
                case ChangeQuantity change:
                    product.ChangeBatchQuantity(change.Reference, change.Qty, change.Change);
                    break;
                case CancelLine cancel:
                    batchRef = product.Deallocate(cancel.OrderId);
                    break;
            }
        }
        catch (RejectedException refused)
        {
            return Actual.Refused(refused.GetType().Name, product);
        }
        catch (ArgumentException) when (step is AllocateLine { Sku: var other } && other != product.Sku)
        {
            // A product refuses a line of another SKU; through the bus that SKU is an unknown one.
            return Actual.Refused(nameof(InvalidSkuException), product);
        }

        var events = product.Events.ToList();
        product.ClearEvents();
        var answer = outOfStock ? "out of stock" : batchRef is not null ? $"batch {batchRef}" : "done";
        return new Actual(answer, events);
    }

    private sealed record Actual(string Answer, IReadOnlyList<INotification> Events)
    {
        // A refusal raises nothing; whatever the product raised before throwing would be a partial change.
        public static Actual Refused(string exception, Product product)
        {
            var events = product.Events.ToList();
            product.ClearEvents();
            return new Actual($"refused ({exception})", events);
        }
    }
}
