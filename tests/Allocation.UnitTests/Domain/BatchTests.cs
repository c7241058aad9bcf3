using Allocation.Domain;

namespace Allocation.UnitTests.Domain;

public class BatchTests
{
    private const string Sku = "SMALL-TABLE";

    [TestCase(2, true)]
    [TestCase(20, true)]
    [TestCase(21, false)]
    public void CanAllocateALineNoLargerThanItsAvailableQuantity(int qty, bool expected)
    {
        var batch = new Batch("batch-1", Sku, 20, null);

        batch.CanAllocate(new OrderLine("order-1", Sku, qty)).ShouldBe(expected);
    }

    [Test]
    public void CannotAllocateALineForAnotherSku()
    {
        var batch = new Batch("batch-1", Sku, 20, null);

        batch.CanAllocate(new OrderLine("order-1", "BLUE-CUSHION", 1)).ShouldBeFalse();
    }

    [Test]
    public void ARestoredBatchKeepsItsTotalAndItsLoadedLines()
    {
        var line = new OrderLine("order-3", Sku, 4);

        var batch = Batch.Restore("batch-1", Sku, 20, new DateOnly(2025, 7, 1), allocatedQuantity: 12, [line]);

        batch.AllocatedQuantity.ShouldBe(12);
        batch.AvailableQuantity.ShouldBe(8);
        batch.Allocations.ShouldBe([line]);
        batch.Eta.ShouldBe(new DateOnly(2025, 7, 1));
    }

    [Test]
    public void RestoringMoreLoadedLinesThanTheAllocatedTotalIsRefused()
    {
        var lines = new[] { new OrderLine("order-1", Sku, 4), new OrderLine("order-2", Sku, 4) };

        var error = Should.Throw<ArgumentException>(() => Batch.Restore("batch-1", Sku, 20, null, allocatedQuantity: 7, lines));

        error.Message.ShouldStartWith("The loaded lines of batch batch-1 exceed its allocated quantity.");
    }

    [Test]
    public void RestoringANegativeAllocatedQuantityIsRefused()
    {
        var error = Should.Throw<ArgumentException>(() => Batch.Restore("batch-1", Sku, 20, null, allocatedQuantity: -1, []));

        error.ParamName.ShouldBe("allocatedQuantity");
    }

    [Test]
    public void RefusesANegativeQuantity()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new Batch("batch-1", Sku, -1, null));
    }

    [TestCase("", Sku)]
    [TestCase("batch-1", " ")]
    public void RefusesAnEmptyReferenceOrSku(string reference, string sku)
    {
        Should.Throw<ArgumentException>(() => new Batch(reference, sku, 10, null));
    }

    [TestCase("", Sku, 1)]
    [TestCase("order-1", "", 1)]
    [TestCase("order-1", Sku, 0)]
    [TestCase("order-1", Sku, -3)]
    public void AnOrderLineNeedsAnOrderIdASkuAndAPositiveQuantity(string orderId, string sku, int qty)
    {
        Should.Throw<ArgumentException>(() => new OrderLine(orderId, sku, qty));
    }
}
