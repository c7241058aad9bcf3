using Allocation.Application.Bus;
using Allocation.Application.Ports;
using Allocation.Application.Queries;

namespace Allocation.UnitTests.Handlers;

/// <summary>The paged read routes: what page sizes and cursors are accepted, and what the read model is asked for.</summary>
public class ListQueriesTests : BusFixture
{
    [Test]
    public async Task AProductsPageIsFiftyLongUnlessALimitIsGiven()
    {
        Bus.ReadModel.Products = new Page<ProductTotals>([new ProductTotals("RED-CHAIR", 1, 1, 10, 3)], "RED-CHAIR");

        var page = await Bus.AskAsync(new ListProducts(null, null));

        page.ShouldBeSameAs(Bus.ReadModel.Products);
        Bus.ReadModel.Asked.ShouldBe((null, 50));
    }

    [TestCase(1, 1)]
    [TestCase(7, 7)]
    [TestCase(500, 500)]
    [TestCase(501, 500)]
    [TestCase(int.MaxValue, 500)]
    public async Task APageIsAsLongAsAskedUpToFiveHundred(int limit, int asked)
    {
        await Bus.AskAsync(new ListProducts("BLUE-VASE", limit));
        var productsAsked = Bus.ReadModel.Asked;
        await Bus.AskAsync(new GetBatch("batch-1", 3, limit));
        var linesAsked = Bus.ReadModel.Asked;
        await Bus.AskAsync(new ListDeadLetters(4, limit));

        productsAsked.ShouldBe(("BLUE-VASE", asked));
        linesAsked.ShouldBe((3L, asked));
        Bus.DeadLetters.Listed.ShouldBe((4L, asked));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public async Task ALimitBelowOneIsRefused(int limit)
    {
        var products = await Should.ThrowAsync<InvalidInputException>(() => Bus.AskAsync(new ListProducts(null, limit)));
        var lines = await Should.ThrowAsync<InvalidInputException>(() => Bus.AskAsync(new GetBatch("batch-1", null, limit)));
        var deadLetters = await Should.ThrowAsync<InvalidInputException>(() => Bus.AskAsync(new ListDeadLetters(null, limit)));

        foreach (var refused in new[] { products, lines, deadLetters })
        {
            refused.Errors.Keys.ShouldBe(["limit"]);
            refused.Errors["limit"].ShouldBe(["'limit' must be a positive integer."]);
        }

        Bus.ReadModel.Asked.ShouldBeNull();
        Bus.DeadLetters.Listed.ShouldBeNull();
    }

    [Test]
    public async Task ANegativeCursorIsRefusedAndZeroIsNot()
    {
        var lines = await Should.ThrowAsync<InvalidInputException>(() => Bus.AskAsync(new GetBatch("batch-1", -1, null)));
        var deadLetters = await Should.ThrowAsync<InvalidInputException>(() => Bus.AskAsync(new ListDeadLetters(-1, null)));
        await Bus.AskAsync(new GetBatch("batch-1", 0, null));
        await Bus.AskAsync(new ListDeadLetters(0, null));

        lines.Errors.Keys.ShouldBe(["after"]);
        deadLetters.Errors.Keys.ShouldBe(["after"]);
        Bus.ReadModel.Asked.ShouldBe((0L, 50));
        Bus.DeadLetters.Listed.ShouldBe((0L, 50));
    }

    [Test]
    public async Task AProductCursorIsAtMostTheLengthOfAnSku()
    {
        var longest = string.Concat(Enumerable.Repeat("\U0001F388", 255));

        await Bus.AskAsync(new ListProducts(longest, null));
        var refused = await Should.ThrowAsync<InvalidInputException>(() => Bus.AskAsync(new ListProducts(longest + "x", null)));

        Bus.ReadModel.Asked.ShouldBe((longest, 50));
        refused.Errors.Keys.ShouldBe(["after"]);
        refused.Errors["after"].ShouldBe(["'after' must be at most 255 characters long; it has 256."]);
    }

    [Test]
    public async Task ABatchIsTheReadModelsAndAnUnknownOneIsNone()
    {
        Bus.ReadModel.Batch = new BatchLines(new BatchStock("batch-1", null, 10, 3), "RED-CHAIR", new Page<AllocatedLine>([new AllocatedLine(1, "order-1", 3)], null));

        var known = await Bus.AskAsync(new GetBatch("batch-1", null, null));
        var unknown = await Bus.AskAsync(new GetBatch("batch-2", null, null));

        known.ShouldBeSameAs(Bus.ReadModel.Batch);
        unknown.ShouldBeNull();
    }

    [Test]
    public void WhatIsAvailableIsWhatWasPurchasedLessWhatIsAllocated()
    {
        var batch = new BatchStock("batch-1", null, Purchased: 10, Allocated: 3);
        var totals = new ProductTotals("RED-CHAIR", 1, Batches: 2, Purchased: 3_000_000_000, Allocated: 1_000_000_001);

        (batch.Available, totals.Available).ShouldBe((7, 1_999_999_999L));
    }

    [Test]
    public async Task AnUnknownDeadLetterIsNotFound()
    {
        var known = Bus.DeadLetters.Add("redis:change_batch_quantity", payload: "not json");

        var letter = await Bus.AskAsync(new GetDeadLetter(known.Id));
        var refused = await Should.ThrowAsync<Application.Commands.UnknownDeadLetterException>(() => Bus.AskAsync(new GetDeadLetter(known.Id + 1)));

        letter.ShouldBe(known);
        refused.Status.ShouldBe(404);
    }
}
