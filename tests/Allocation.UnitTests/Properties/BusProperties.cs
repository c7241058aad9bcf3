using Allocation.Application.Commands;
using Allocation.Domain;
using Allocation.Testing.Properties;
using Allocation.UnitTests.Fakes;

namespace Allocation.UnitTests.Properties;

/// <summary>
/// The same property as <see cref="ProductProperties"/> one level up: random sequences of commands through
/// the real bus over fakes, with what each committed dispatched as the outbox would. After every command
/// the answer, the events dispatched, what
/// went downstream and the stored products are held to the reference model.
/// </summary>
public class BusProperties
{
    private static readonly StepPools Pools = StepPools.TwoProducts;

    [Test]
    public async Task EveryCommandThroughTheBusAnswersDispatchesAndStoresWhatTheRulesSay()
    {
        await StepGenerators.Sequences(Pools, maxLength: 25)
            .CheckAsync(RunAgainstTheModelAsync, cases: 300, StepGenerators.Print, TestContext.Out.WriteLine);
    }

    private static async Task RunAgainstTheModelAsync(Step[] steps)
    {
        await using var bus = new FakeBus();
        var model = new AllocationModel();
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var versions = Pools.Skus.ToDictionary(sku => sku, sku => Stored(bus, sku)?.VersionNumber);
            var states = Pools.Skus.ToDictionary(sku => sku, model.StateOf);
            var (dispatched, published, cancelled, mailed) = (bus.Dispatched.Count, bus.Publisher.Published.Count, bus.Publisher.Deallocated.Count, bus.Notifier.Sent.Count);

            var expected = model.Apply(step);
            var answer = await SendAsync(bus, step);
            await bus.DispatchAsync();

            var at = StepChecks.At(i + 1, step);
            answer.ShouldBe(expected.ToString(), at);
            bus.Dispatched.Skip(dispatched).Select(entry => entry.Event).ShouldBe(expected.Dispatched, $"{at}: the events dispatched");
            bus.Publisher.Published.Skip(published).Select(message => (message.OrderId, message.Sku, message.Qty, message.BatchRef))
                .ShouldBe(expected.Dispatched.OfType<Allocated>().Select(@event => (@event.OrderId, @event.Sku, @event.Qty, @event.BatchReference)), $"{at}: line_allocated");
            bus.Publisher.Deallocated.Skip(cancelled).Select(message => (message.OrderId, message.Sku, message.Qty, message.BatchRef))
                .ShouldBe(expected.Dispatched.OfType<LineCancelled>().Select(@event => (@event.OrderId, @event.Sku, @event.Qty, @event.BatchReference)), $"{at}: line_deallocated");
            bus.Notifier.Sent.Skip(mailed).Select(mail => mail.Subject)
                .ShouldBe(expected.Dispatched.OfType<OutOfStock>().Select(@event => $"Out of stock for {@event.Sku}"), $"{at}: e-mails to the stock team");
            foreach (var sku in Pools.Skus.Concat(Pools.UnknownSkus))
            {
                var stored = Stored(bus, sku);
                if (!model.BatchesOf(sku).Any())
                {
                    stored.ShouldBeNull($"{at}: {sku} has no batch, so no product");
                    continue;
                }

                stored.ShouldNotBeNull($"{at}: {sku} has a batch, so a product");
                StepChecks.SameBatches(stored, model, at);
                StepChecks.Invariants(stored, at);
                if (versions.GetValueOrDefault(sku) is { } version)
                {
                    StepChecks.VersionMovesOnWithEveryChange(version, stored.VersionNumber, changed: model.StateOf(sku) != states[sku], at);
                }
            }
        }
    }

    private static Product? Stored(FakeBus bus, string sku) => bus.UnitOfWork.Repository.Stored(sku);

    // What the bus answered, in the model's words.
    private static async Task<string> SendAsync(FakeBus bus, Step step)
    {
        try
        {
            return step switch
            {
                AddBatch add => await Done(bus.SendAsync(new CreateBatch(add.Reference, add.Sku, add.Qty, add.Eta))),
                AllocateLine allocate => $"batch {await bus.SendAsync(new Allocate(allocate.OrderId, allocate.Sku, allocate.Qty))}",
                ChangeQuantity change => await Done(bus.SendAsync(new ChangeBatchQuantity(change.Reference, change.Qty, change.Change?.ToString()))),
                CancelLine cancel => $"batch {await bus.SendAsync(new Deallocate(cancel.OrderId, cancel.Sku))}",
                _ => throw new ArgumentOutOfRangeException(nameof(step), step, "No such step."),
            };
        }
        catch (OutOfStockException)
        {
            return "out of stock";
        }
        catch (RejectedException refused)
        {
            return $"refused ({refused.GetType().Name})";
        }
    }

    private static async Task<string> Done(Task sending)
    {
        await sending;
        return "done";
    }
}
