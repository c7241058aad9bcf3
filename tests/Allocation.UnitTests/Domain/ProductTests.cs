using Allocation.Domain;

namespace Allocation.UnitTests.Domain;

public class ProductTests
{
    private const string Sku = "RED-CHAIR";

    private static readonly DateOnly Today = new(2025, 6, 1);
    private static readonly DateOnly Tomorrow = Today.AddDays(1);
    private static readonly DateOnly Later = Today.AddDays(10);

    [Test]
    public void AllocatingReducesAvailableQuantity()
    {
        var product = ProductWith(("batch-1", 20, null));

        product.Allocate(new OrderLine("order-1", Sku, 2));

        product.Batches[0].AvailableQuantity.ShouldBe(18);
        product.Batches[0].Allocations.ShouldBe([new OrderLine("order-1", Sku, 2)]);
    }

    [Test]
    public void PrefersWarehouseStockToShipments()
    {
        var product = ProductWith(("shipment", 100, Tomorrow), ("in-stock", 100, null));

        var reference = product.Allocate(new OrderLine("order-1", Sku, 10));

        reference.ShouldBe("in-stock");
        product.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([100, 90]);
    }

    [Test]
    public void PrefersEarlierShipments()
    {
        var product = ProductWith(("later", 100, Later), ("tomorrow", 100, Tomorrow), ("today", 100, Today));

        var reference = product.Allocate(new OrderLine("order-1", Sku, 10));

        reference.ShouldBe("today");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void PrefersTheBatchAddedFirstWhenEtasAreEqual(bool inWarehouse)
    {
        DateOnly? eta = inWarehouse ? null : Tomorrow;
        var product = ProductWith(("zeta", 100, eta), ("alpha", 100, eta), ("middle", 100, eta));

        var reference = product.Allocate(new OrderLine("order-1", Sku, 10));

        reference.ShouldBe("zeta");
    }

    [Test]
    public void SkipsPreferredBatchesThatCannotTakeTheLine()
    {
        var product = ProductWith(("in-stock", 5, null), ("early", 9, Today), ("late", 50, Later), ("also-late", 50, Later));

        var reference = product.Allocate(new OrderLine("order-1", Sku, 10));

        reference.ShouldBe("late");
    }

    [Test]
    public void AllocatesALineThatTakesAllOfABatch()
    {
        var product = ProductWith(("batch-1", 10, null));

        var reference = product.Allocate(new OrderLine("order-1", Sku, 10));

        reference.ShouldBe("batch-1");
        product.Batches[0].AvailableQuantity.ShouldBe(0);
    }

    [Test]
    public void NeverSplitsALineAcrossBatches()
    {
        var product = ProductWith(("batch-1", 6, null), ("batch-2", 6, Tomorrow));

        var reference = product.Allocate(new OrderLine("order-1", Sku, 8));

        reference.ShouldBeNull();
        product.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([6, 6]);
        product.Events.ShouldBe([new OutOfStock(Sku)]);
    }

    [Test]
    public void RaisesAllocatedWithTheLineAndTheChosenBatch()
    {
        var product = ProductWith(("shipment", 10, Tomorrow), ("in-stock", 10, null));

        product.Allocate(new OrderLine("order-1", Sku, 3));

        product.Events.ShouldBe([new Allocated("order-1", Sku, 3, "in-stock")]);
    }

    [Test]
    public void OutOfStockRaisesOutOfStockAndChangesNothing()
    {
        var product = ProductWith(("batch-1", 10, null));
        product.Allocate(new OrderLine("order-1", Sku, 10));
        product.ClearEvents();
        var version = product.VersionNumber;

        var reference = product.Allocate(new OrderLine("order-2", Sku, 1));

        reference.ShouldBeNull();
        product.Events.ShouldBe([new OutOfStock(Sku)]);
        product.VersionNumber.ShouldBe(version);
        product.Batches[0].Allocations.Select(line => line.OrderId).ShouldBe(["order-1"]);
        product.Batches[0].AvailableQuantity.ShouldBe(0);
    }

    [Test]
    public void AllocatingTheSameLineAgainAnswersTheSameBatchAndChangesNothing()
    {
        var product = ProductWith(("shipment", 10, Tomorrow));
        product.Allocate(new OrderLine("order-1", Sku, 3));
        product.AddBatch("in-stock", 10, null);
        product.ClearEvents();
        var version = product.VersionNumber;

        var reference = product.Allocate(new OrderLine("order-1", Sku, 3));

        reference.ShouldBe("shipment");
        product.Events.ShouldBeEmpty();
        product.VersionNumber.ShouldBe(version);
        product.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([7, 10]);
    }

    [Test]
    public void AllocatingTheSameOrderWithAnotherQuantityIsAConflictAndChangesNothing()
    {
        var product = ProductWith(("batch-1", 10, null));
        product.Allocate(new OrderLine("order-1", Sku, 3));
        product.ClearEvents();
        var version = product.VersionNumber;

        var conflict = Should.Throw<LineConflictException>(() => product.Allocate(new OrderLine("order-1", Sku, 4)));

        conflict.OrderId.ShouldBe("order-1");
        conflict.Sku.ShouldBe(Sku);
        (conflict.Status, conflict.Title).ShouldBe((409, "Conflicting order line"));
        conflict.Message.ShouldBe($"Order order-1 already has 3 of sku {Sku} allocated; cannot allocate 4");
        product.Events.ShouldBeEmpty();
        product.VersionNumber.ShouldBe(version);
        product.Batches[0].Allocations.ShouldBe([new OrderLine("order-1", Sku, 3)]);
    }

    [Test]
    public void RefusesALineForAnotherSku()
    {
        var product = ProductWith(("batch-1", 10, null));

        var error = Should.Throw<ArgumentException>(() => product.Allocate(new OrderLine("order-1", "BLUE-VASE", 1)));

        error.Message.ShouldStartWith($"Line for sku BLUE-VASE cannot be allocated to product {Sku}.");
        product.Batches[0].AvailableQuantity.ShouldBe(10);
        product.Events.ShouldBeEmpty();
    }

    [Test]
    public void AddingABatchAppendsItWithItsDetails()
    {
        var product = new Product(Sku);

        product.AddBatch("batch-1", 20, Tomorrow);

        product.Batches.Count.ShouldBe(1);
        product.Batches[0].Reference.ShouldBe("batch-1");
        product.Batches[0].Sku.ShouldBe(Sku);
        product.Batches[0].PurchasedQuantity.ShouldBe(20);
        product.Batches[0].Eta.ShouldBe(Tomorrow);
        product.VersionNumber.ShouldBe(1);
    }

    [Test]
    public void AddingAnIdenticalBatchAgainChangesNothing()
    {
        var product = ProductWith(("batch-1", 20, Tomorrow));
        var version = product.VersionNumber;

        product.AddBatch("batch-1", 20, Tomorrow);

        product.Batches.Count.ShouldBe(1);
        product.VersionNumber.ShouldBe(version);
        product.Events.ShouldBeEmpty();
    }

    [TestCase(21, false)]
    [TestCase(20, true)]
    public void AddingABatchWithAnExistingReferenceAndOtherDetailsIsAConflict(int qty, bool inWarehouse)
    {
        var product = ProductWith(("batch-1", 20, Tomorrow));
        var version = product.VersionNumber;

        var conflict = Should.Throw<BatchConflictException>(() => product.AddBatch("batch-1", qty, inWarehouse ? null : Tomorrow));

        conflict.Reference.ShouldBe("batch-1");
        (conflict.Status, conflict.Title).ShouldBe((409, "Conflicting batch"));
        conflict.Message.ShouldBe($"Batch batch-1 already exists for sku {Sku} with qty 20 and eta 2025-06-02");
        product.Batches.Count.ShouldBe(1);
        product.Batches[0].PurchasedQuantity.ShouldBe(20);
        product.Batches[0].Eta.ShouldBe(Tomorrow);
        product.VersionNumber.ShouldBe(version);
    }

    [Test]
    public void AConflictWithABatchInTheWarehouseSaysItsEtaIsNull()
    {
        var product = ProductWith(("batch-1", 20, null));

        var conflict = Should.Throw<BatchConflictException>(() => product.AddBatch("batch-1", 20, Tomorrow));

        conflict.Message.ShouldBe($"Batch batch-1 already exists for sku {Sku} with qty 20 and eta null");
    }

    [Test]
    public void EveryChangeMovesTheVersionNumberOn()
    {
        var product = new Product(Sku, versionNumber: 7);
        var versions = new List<int>();

        product.AddBatch("batch-1", 10, null);
        versions.Add(product.VersionNumber);
        product.Allocate(new OrderLine("order-1", Sku, 4));
        versions.Add(product.VersionNumber);
        product.ChangeBatchQuantity("batch-1", 2);
        versions.Add(product.VersionNumber);

        versions.ShouldBe([8, 9, 10]);
    }

    [Test]
    public void ChangingABatchQuantitySetsItsPurchasedQuantity()
    {
        var product = ProductWith(("batch-1", 20, null));
        product.Allocate(new OrderLine("order-1", Sku, 5));
        product.ClearEvents();

        product.ChangeBatchQuantity("batch-1", 12);

        product.Batches[0].PurchasedQuantity.ShouldBe(12);
        product.Batches[0].AvailableQuantity.ShouldBe(7);
        product.Events.ShouldBeEmpty();
    }

    [Test]
    public void ChangingABatchToItsCurrentQuantityChangesNothing()
    {
        var product = ProductWith(("batch-1", 20, null));
        var version = product.VersionNumber;

        var applied = product.ChangeBatchQuantity("batch-1", 20);

        applied.ShouldBeTrue();
        product.VersionNumber.ShouldBe(version);
        product.Events.ShouldBeEmpty();
    }

    [TestCase(6, new[] { "order-3", "order-2" }, new[] { "order-1" })]
    [TestCase(10, new[] { "order-3" }, new[] { "order-1", "order-2" })]
    [TestCase(0, new[] { "order-3", "order-2", "order-1" }, new string[0])]
    public void ShrinkingABatchMovesItsMostRecentLinesToAnotherBatchUntilItIsNoLongerOverAllocated(
        int qty, string[] deallocated, string[] kept)
    {
        var product = ProductWith(("batch-1", 20, null), ("batch-2", 20, null));
        product.Allocate(new OrderLine("order-1", Sku, 5));
        product.Allocate(new OrderLine("order-2", Sku, 5));
        product.Allocate(new OrderLine("order-3", Sku, 5));
        product.ClearEvents();

        product.ChangeBatchQuantity("batch-1", qty);

        product.Events.ShouldBe(
            deallocated.Select(orderId => (object)new Deallocated(orderId, Sku, 5))
                .Concat(deallocated.Select(orderId => new Allocated(orderId, Sku, 5, "batch-2"))));
        product.Batches[0].Allocations.Select(line => line.OrderId).ShouldBe(kept);
        product.Batches[0].AllocatedQuantity.ShouldBe(5 * kept.Length);
        product.Batches[1].Allocations.Select(line => line.OrderId).ShouldBe(deallocated);
        product.Batches[1].AvailableQuantity.ShouldBe(20 - (5 * deallocated.Length));
    }

    [Test]
    public void ALineDeallocatedBeforeASmallerOneIsDeallocatedGoesBackToItsBatchIfItFitsThere()
    {
        var product = ProductWith(("batch-1", 4, null), ("batch-2", 10, Tomorrow));
        product.Allocate(new OrderLine("order-big", Sku, 3));
        product.Allocate(new OrderLine("order-small", Sku, 1));
        product.ClearEvents();

        product.ChangeBatchQuantity("batch-1", 2);

        product.Events.ShouldBe([
            new Deallocated("order-small", Sku, 1), new Deallocated("order-big", Sku, 3),
            new Allocated("order-small", Sku, 1, "batch-1"), new Allocated("order-big", Sku, 3, "batch-2"),
        ]);
        product.Batches[0].Allocations.Select(line => line.OrderId).ShouldBe(["order-small"]);
        product.Batches[1].Allocations.Select(line => line.OrderId).ShouldBe(["order-big"]);
    }

    [Test]
    public void ChangingAnUnknownBatchIsRefused()
    {
        var product = ProductWith(("batch-1", 20, null));

        var exception = Should.Throw<UnknownBatchException>(() => product.ChangeBatchQuantity("batch-9", 5));

        exception.Reference.ShouldBe("batch-9");
        (exception.Status, exception.Title, exception.Message).ShouldBe((404, "Unknown batch", "Unknown batch batch-9"));
        product.Batches[0].PurchasedQuantity.ShouldBe(20);
    }

    [Test]
    public void ChangingABatchToANegativeQuantityIsRefusedAndChangesNothing()
    {
        var product = ProductWith(("batch-1", 20, null));
        product.Allocate(new OrderLine("order-1", Sku, 5));
        product.ClearEvents();
        var version = product.VersionNumber;

        Should.Throw<ArgumentOutOfRangeException>(() => product.ChangeBatchQuantity("batch-1", -1));

        product.Batches[0].PurchasedQuantity.ShouldBe(20);
        product.Batches[0].Allocations.Count.ShouldBe(1);
        product.VersionNumber.ShouldBe(version);
        product.Events.ShouldBeEmpty();
    }

    [Test]
    public void AllocatesAgainstTheTotalOfARestoredBatchNotJustItsLoadedLines()
    {
        var batch = Batch.Restore("batch-1", Sku, 100, null, allocatedQuantity: 90, [new OrderLine("order-7", Sku, 10)]);
        var product = new Product(Sku, [batch], versionNumber: 40);

        var tooMuch = product.Allocate(new OrderLine("order-8", Sku, 11));
        var enough = product.Allocate(new OrderLine("order-9", Sku, 10));

        tooMuch.ShouldBeNull();
        enough.ShouldBe("batch-1");
        batch.AllocatedQuantity.ShouldBe(100);
        batch.AvailableQuantity.ShouldBe(0);
        product.VersionNumber.ShouldBe(41);
    }

    [Test]
    public void RecognisesALoadedLineOfARestoredBatchAsAlreadyAllocated()
    {
        var batch = Batch.Restore("batch-1", Sku, 100, Tomorrow, allocatedQuantity: 90, [new OrderLine("order-7", Sku, 10)]);
        var product = new Product(Sku, [new Batch("in-stock", Sku, 100, null), batch], versionNumber: 40);

        var reference = product.Allocate(new OrderLine("order-7", Sku, 10));

        reference.ShouldBe("batch-1");
        product.Events.ShouldBeEmpty();
        product.VersionNumber.ShouldBe(40);
    }

    [Test]
    public void ShrinkingARestoredBatchDeallocatesItsLoadedLinesMostRecentFirst()
    {
        var loaded = new[] { new OrderLine("order-9", Sku, 3), new OrderLine("order-10", Sku, 2) };
        var batch = Batch.Restore("batch-1", Sku, 20, null, allocatedQuantity: 20, loaded);
        var product = new Product(Sku, [batch], versionNumber: 5);

        product.ChangeBatchQuantity("batch-1", 16);

        product.Events.ShouldBe([new Deallocated("order-10", Sku, 2), new Deallocated("order-9", Sku, 3), new OutOfStock(Sku), new OutOfStock(Sku)]);
        batch.AllocatedQuantity.ShouldBe(15);
        batch.Allocations.ShouldBeEmpty();
        product.VersionNumber.ShouldBe(6);
    }

    [Test]
    public void ShrinkingARestoredBatchPastItsLoadedLinesIsAnError()
    {
        var batch = Batch.Restore("batch-1", Sku, 20, null, allocatedQuantity: 20, [new OrderLine("order-10", Sku, 2)]);
        var product = new Product(Sku, [batch]);

        var error = Should.Throw<InvalidOperationException>(() => product.ChangeBatchQuantity("batch-1", 10));

        error.Message.ShouldStartWith("Batch batch-1 is over-allocated but none of its lines were loaded");
    }

    [Test]
    public void RefusesBatchesOfAnotherSku()
    {
        var batches = new[] { new Batch("batch-1", Sku, 10, null), new Batch("batch-2", "BLUE-VASE", 10, null) };

        var error = Should.Throw<ArgumentException>(() => new Product(Sku, batches));

        error.ParamName.ShouldBe("batches");
        error.Message.ShouldStartWith($"Every batch of product {Sku} must be for that SKU.");
    }

    [Test]
    public void AChangeOlderThanTheLastAppliedOneChangesNothing()
    {
        var product = ProductWith(("batch-1", 20, null));
        product.ChangeBatchQuantity("batch-1", 15, new ChangeId(200, 0)).ShouldBeTrue();
        var version = product.VersionNumber;

        var applied = product.ChangeBatchQuantity("batch-1", 5, new ChangeId(100, 7));

        applied.ShouldBeFalse();
        product.Batches[0].PurchasedQuantity.ShouldBe(15);
        product.VersionNumber.ShouldBe(version);
    }

    [Test]
    public void AChangeDeliveredAgainChangesNothing()
    {
        var product = ProductWith(("batch-1", 20, null));
        product.Allocate(new OrderLine("order-1", Sku, 10));
        product.ChangeBatchQuantity("batch-1", 15, new ChangeId(200, 1));
        product.ClearEvents();

        product.ChangeBatchQuantity("batch-1", 15, new ChangeId(200, 1)).ShouldBeFalse();

        product.Events.ShouldBeEmpty();
        product.Batches[0].LastChange.ShouldBe(new ChangeId(200, 1));
    }

    [Test]
    public void ANewerChangeIsAppliedAndRemembered()
    {
        var product = ProductWith(("batch-1", 20, null));
        product.ChangeBatchQuantity("batch-1", 15, new ChangeId(200, 1));

        var applied = product.ChangeBatchQuantity("batch-1", 5, new ChangeId(200, 2));

        applied.ShouldBeTrue();
        product.Batches[0].PurchasedQuantity.ShouldBe(5);
        product.Batches[0].LastChange.ShouldBe(new ChangeId(200, 2));
    }

    [TestCase("1700000000000-0", 1700000000000, 0)]
    [TestCase("5-12", 5, 12)]
    public void AChangeIdReadsAsAStreamEntryId(string text, long milliseconds, long sequence)
    {
        ChangeId.TryParse(text, out var id).ShouldBeTrue();

        id.ShouldBe(new ChangeId(milliseconds, sequence));
        id.ToString().ShouldBe(text);
    }

    [TestCase("")]
    [TestCase("17")]
    [TestCase("-1")]
    [TestCase("1-")]
    [TestCase("a-b")]
    [TestCase("1--2")]
    public void AChangeIdThatIsNotAStreamEntryIdIsRefused(string text)
    {
        ChangeId.TryParse(text, out _).ShouldBeFalse();
    }

    [Test]
    public void ChangeIdsCompareByTimeThenSequence()
    {
        new ChangeId(1, 9).ShouldBeLessThan(new ChangeId(2, 0));
        new ChangeId(2, 1).ShouldBeGreaterThan(new ChangeId(2, 0));
    }

    [Test]
    public void DeallocatingFreesTheLinesQuantityInItsBatch()
    {
        var product = ProductWith(("batch-1", 20, null), ("batch-2", 20, Later));
        product.Allocate(new OrderLine("order-1", Sku, 2));
        product.Allocate(new OrderLine("order-2", Sku, 5));
        product.ClearEvents();

        var reference = product.Deallocate("order-1");

        reference.ShouldBe("batch-1");
        product.Batches[0].AvailableQuantity.ShouldBe(15);
        product.Batches[0].Allocations.ShouldBe([new OrderLine("order-2", Sku, 5)]);
        product.Events.ShouldBe([new LineCancelled("order-1", Sku, 2, "batch-1")]);
    }

    [Test]
    public void DeallocatingMovesTheVersionOn()
    {
        var product = ProductWith(("batch-1", 20, null));
        product.Allocate(new OrderLine("order-1", Sku, 2));
        var version = product.VersionNumber;

        product.Deallocate("order-1");

        product.VersionNumber.ShouldBe(version + 1);
    }

    [Test]
    public void DeallocatingALineThatIsNotAllocatedIsRefusedAndChangesNothing()
    {
        var product = ProductWith(("batch-1", 20, null));
        product.Allocate(new OrderLine("order-1", Sku, 2));
        product.ClearEvents();
        var version = product.VersionNumber;

        var exception = Should.Throw<LineNotAllocatedException>(() => product.Deallocate("order-2"));

        exception.Message.ShouldBe($"Order order-2 has no allocated line of sku {Sku}");
        (exception.Status, exception.Title).ShouldBe((404, "Line not allocated"));
        product.VersionNumber.ShouldBe(version);
        product.Batches[0].AvailableQuantity.ShouldBe(18);
        product.Events.ShouldBeEmpty();
    }

    [Test]
    public void ADeallocatedLineCanBeAllocatedAgainLater()
    {
        var product = ProductWith(("batch-1", 20, null));
        product.Allocate(new OrderLine("order-1", Sku, 2));
        product.Deallocate("order-1");
        product.ClearEvents();

        var reference = product.Allocate(new OrderLine("order-1", Sku, 3));

        reference.ShouldBe("batch-1");
        product.Batches[0].AvailableQuantity.ShouldBe(17);
        product.Events.ShouldBe([new Allocated("order-1", Sku, 3, "batch-1")]);
    }

    [TestCase("")]
    [TestCase("  ")]
    public void RefusesAnEmptySku(string sku)
    {
        Should.Throw<ArgumentException>(() => new Product(sku));
    }

    private static Product ProductWith(params (string Reference, int Qty, DateOnly? Eta)[] batches)
    {
        var product = new Product(Sku);
        foreach (var (reference, qty, eta) in batches)
        {
            product.AddBatch(reference, qty, eta);
        }

        return product;
    }
}
