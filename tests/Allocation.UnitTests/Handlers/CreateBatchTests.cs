using Allocation.Application.Bus;
using Allocation.Application.Commands;
using Allocation.Domain;

namespace Allocation.UnitTests.Handlers;

public class CreateBatchTests : BusFixture
{
    [Test]
    public async Task CreatesTheProductForANewSku()
    {
        await Bus.SendAsync(new CreateBatch("batch-1", "CRUNCHY-ARMCHAIR", 100, new DateOnly(2025, 6, 1)));

        var product = Bus.UnitOfWork.Repository.Stored("CRUNCHY-ARMCHAIR").ShouldNotBeNull();
        product.Batches.Count.ShouldBe(1);
        product.Batches[0].Reference.ShouldBe("batch-1");
        product.Batches[0].PurchasedQuantity.ShouldBe(100);
        product.Batches[0].Eta.ShouldBe(new DateOnly(2025, 6, 1));
        Bus.UnitOfWork.Commits.ShouldBe(1);
    }

    [Test]
    public async Task AddsABatchToAnExistingProduct()
    {
        await Bus.SendAsync(new CreateBatch("batch-1", "GARISH-RUG", 100));

        await Bus.SendAsync(new CreateBatch("batch-2", "GARISH-RUG", 99));

        var product = Bus.UnitOfWork.Repository.Stored("GARISH-RUG").ShouldNotBeNull();
        product.Batches.Select(batch => batch.Reference).ShouldBe(["batch-1", "batch-2"]);
        product.VersionNumber.ShouldBe(2);
    }

    [Test]
    public async Task AddingAnIdenticalBatchAgainChangesNothing()
    {
        await Bus.SendAsync(new CreateBatch("batch-1", "GARISH-RUG", 100));

        await Bus.SendAsync(new CreateBatch("batch-1", "GARISH-RUG", 100));

        var product = Bus.UnitOfWork.Repository.Stored("GARISH-RUG").ShouldNotBeNull();
        product.Batches.Count.ShouldBe(1);
        product.VersionNumber.ShouldBe(1);
    }

    [Test]
    public async Task TheSameReferenceWithOtherDetailsIsAConflict()
    {
        await Bus.SendAsync(new CreateBatch("batch-1", "GARISH-RUG", 100));

        await Should.ThrowAsync<BatchConflictException>(() => Bus.SendAsync(new CreateBatch("batch-1", "GARISH-RUG", 50)));

        Bus.UnitOfWork.Repository.Stored("GARISH-RUG")!.Batches[0].PurchasedQuantity.ShouldBe(100);
    }

    [Test]
    public async Task TheSameReferenceUnderAnotherSkuIsAConflict()
    {
        await Bus.SendAsync(new CreateBatch("batch-1", "GARISH-RUG", 100));

        var conflict = await Should.ThrowAsync<BatchConflictException>(() => Bus.SendAsync(new CreateBatch("batch-1", "BLUE-VASE", 100)));

        conflict.Reference.ShouldBe("batch-1");
        conflict.Message.ShouldBe("Batch batch-1 already exists for sku GARISH-RUG");
        Bus.UnitOfWork.Repository.Stored("BLUE-VASE").ShouldBeNull();
        Bus.UnitOfWork.Commits.ShouldBe(1);
    }

    [Test]
    public async Task ABatchMayBeEmpty()
    {
        await Bus.SendAsync(new CreateBatch("batch-1", "GARISH-RUG", 0));

        Bus.UnitOfWork.Repository.Stored("GARISH-RUG")!.Batches[0].PurchasedQuantity.ShouldBe(0);
    }

    [TestCaseSource(nameof(InvalidCommands))]
    public async Task InvalidCommandsAreRefusedBeforeTheHandler(CreateBatch command)
    {
        await Should.ThrowAsync<InvalidInputException>(() => Bus.SendAsync(command));

        Bus.UnitOfWork.Repository.Lookups.ShouldBe(0);
        Bus.UnitOfWork.CommitAttempts.ShouldBe(0);
    }

    private static IEnumerable<TestCaseData> InvalidCommands()
    {
        var tooLong = new string('x', 256);
        yield return new TestCaseData(new CreateBatch("", "GARISH-RUG", 1)).SetArgDisplayNames("empty reference");
        yield return new TestCaseData(new CreateBatch(tooLong, "GARISH-RUG", 1)).SetArgDisplayNames("reference of 256 chars");
        yield return new TestCaseData(new CreateBatch("batch-1", "", 1)).SetArgDisplayNames("empty sku");
        yield return new TestCaseData(new CreateBatch("batch-1", tooLong, 1)).SetArgDisplayNames("sku of 256 chars");
        yield return new TestCaseData(new CreateBatch("batch-1", "GARISH-RUG", -1)).SetArgDisplayNames("negative qty");
    }
}
