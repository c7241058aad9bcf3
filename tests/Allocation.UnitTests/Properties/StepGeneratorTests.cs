using Allocation.Domain;
using Allocation.Testing.Properties;
using CsCheck;

namespace Allocation.UnitTests.Properties;

/// <summary>
/// The properties prove something only if their random sequences reach the cases the rules describe;
/// these tests count, over sequences from a fixed seed, how often each case comes up.
/// </summary>
public class StepGeneratorTests
{
    private static readonly string[] EveryCase =
    [
        "allocated", "allocated past a preferred batch without room", "allocated among batches of equal eta", "out of stock",
        "allocated again with the same qty", "allocated again with another qty", "unknown sku",
        "same batch added again", "batch added again with other details",
        "unknown batch", "change applied", "newer change id applied", "older or repeated change id ignored",
        "shrink deallocated lines", "deallocated line allocated again", "deallocated line out of stock",
        "line cancelled", "cancelled a line that is not allocated",
    ];

    [Test]
    public void SequencesForOneProductReachEveryCase()
    {
        var reached = Reached(StepGenerators.SequencesOfOneProduct(StepPools.OneProduct, maxLength: 30));

        reached.Where(count => count.Value < 5).Select(count => count.Key).ShouldBeEmpty();
        reached.Keys.ShouldBe(EveryCase, ignoreOrder: true);
    }

    [Test]
    public void SequencesForTwoProductsReachEveryCaseAndReferencesTakenByAnotherSku()
    {
        var reached = Reached(StepGenerators.Sequences(StepPools.TwoProducts, maxLength: 25));

        reached.Where(count => count.Value < 5).Select(count => count.Key).ShouldBeEmpty();
        reached.Keys.ShouldBe([.. EveryCase, "reference taken by another sku", "cancelled a line of an unknown sku"], ignoreOrder: true);
    }

    private static Dictionary<string, int> Reached(Gen<Step[]> sequences)
    {
        var pcg = new PCG(stream: 1, seed: 20250601);
        var reached = new Dictionary<string, int>();
        for (var i = 0; i < 400; i++)
        {
            var model = new AllocationModel();
            foreach (var step in sequences.Generate(pcg, null!, out _))
            {
                foreach (var kind in Classify(model, step))
                {
                    reached[kind] = reached.GetValueOrDefault(kind) + 1;
                }
            }
        }

        return reached;
    }

    // Looks at the model before the step to tell what kind of case it is, then applies it.
    private static IEnumerable<string> Classify(AllocationModel model, Step step)
    {
        var kinds = new List<string>();
        switch (step)
        {
            case AddBatch add:
                var existing = model.Batches.FirstOrDefault(batch => batch.Reference == add.Reference);
                var added = model.Apply(step);
                if (existing is not null)
                {
                    kinds.Add(existing.Sku != add.Sku ? "reference taken by another sku" : added.Refusal is null ? "same batch added again" : "batch added again with other details");
                }

                break;
            case AllocateLine allocate:
                var preferred = model.InPreferenceOrder(allocate.Sku).ToList();
                var allocated = model.Apply(step);
                if (allocated.Events.OfType<Allocated>().SingleOrDefault() is { } @event)
                {
                    kinds.Add("allocated");
                    var chosen = preferred.Single(batch => batch.Reference == @event.BatchReference);
                    if (preferred[0] != chosen)
                    {
                        kinds.Add("allocated past a preferred batch without room");
                    }

                    if (preferred.Any(batch => batch != chosen && batch.Eta == chosen.Eta))
                    {
                        kinds.Add("allocated among batches of equal eta");
                    }
                }

                kinds.Add(allocated switch
                {
                    { OutOfStock: true } => "out of stock",
                    { Refusal: { } refusal } when refusal == typeof(InvalidSkuException) => "unknown sku",
                    { Refusal: { } refusal } when refusal == typeof(LineConflictException) => "allocated again with another qty",
                    { BatchRef: not null, Events.Count: 0 } => "allocated again with the same qty",
                    _ => "allocated",
                });
                break;
            case ChangeQuantity change:
                var last = model.Batches.FirstOrDefault(batch => batch.Reference == change.Reference)?.LastChange;
                var changed = model.Apply(step);
                if (changed.Refusal is not null)
                {
                    kinds.Add("unknown batch");
                    break;
                }

                var ignored = change.Change is { } id && last is { } previous && (id.Milliseconds, id.Sequence).CompareTo(previous) <= 0;
                kinds.Add(ignored ? "older or repeated change id ignored" : change.Change is null ? "change applied" : "newer change id applied");
                if (changed.Events.Count > 0)
                {
                    kinds.Add("shrink deallocated lines");
                }

                kinds.AddRange(changed.Events.Where(@event => @event is not Deallocated).Select(@event => @event is OutOfStock ? "deallocated line out of stock" : "deallocated line allocated again"));
                break;
            case CancelLine cancel:
                var known = model.BatchesOf(cancel.Sku).Any();
                var cancelled = model.Apply(step);
                kinds.Add(cancelled.Refusal is null ? "line cancelled" : known ? "cancelled a line that is not allocated" : "cancelled a line of an unknown sku");
                break;
        }

        return kinds.Distinct();
    }
}
