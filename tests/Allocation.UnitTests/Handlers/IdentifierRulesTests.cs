using Allocation.Application.Bus;
using Allocation.Application.Commands;

namespace Allocation.UnitTests.Handlers;

/// <summary>
/// The identifier rules every command shares (<see cref="Rules.ValidIdentifier{T}"/>), so a reference, SKU or
/// order id is refused for the same reason whether it came over HTTP or in a Redis message.
/// </summary>
public class IdentifierRulesTests : BusFixture
{
    [TestCase("batch\u0000", "U+0000")]
    [TestCase("batch\r\n", "U+000D")]
    [TestCase("bat\u001Bch", "U+001B at character 4")]
    [TestCase("batch\u009B", "U+009B")]
    [TestCase(".", "\".\"")]
    [TestCase("..", "\"..\"")]
    public async Task AReferenceThatCouldNotBeReadBackIsRefusedWithTheReason(string reference, string reason)
    {
        var refusal = await Should.ThrowAsync<InvalidInputException>(() => Bus.SendAsync(new CreateBatch(reference, "GARISH-RUG", 1)));

        refusal.Errors.Keys.ShouldBe(["ref"]);
        refusal.Errors["ref"].ShouldHaveSingleItem().ShouldContain(reason);
        Bus.UnitOfWork.Repository.Lookups.ShouldBe(0);
    }

    [Test]
    public async Task AReferenceThatIsNotValidUnicodeIsRefused()
    {
        // In code rather than an attribute: attribute strings are stored as UTF-8, which has no unpaired surrogates.
        var reference = "batch-" + '\uD800';

        var refusal = await Should.ThrowAsync<InvalidInputException>(() => Bus.SendAsync(new CreateBatch(reference, "GARISH-RUG", 1)));

        refusal.Errors["ref"].ShouldHaveSingleItem().ShouldContain("unpaired surrogate");
    }

    [TestCaseSource(nameof(CommandsWithAControlCharacter))]
    public async Task EveryCommandRefusesAControlCharacterInItsIdentifiers(Func<Fakes.FakeBus, Task> send, string field)
    {
        var refusal = await Should.ThrowAsync<InvalidInputException>(() => send(Bus));

        refusal.Errors.Keys.ShouldBe([field]);
    }

    [TestCase(" batch-1", "white space")]
    [TestCase("batch-1 ", "white space")]
    [TestCase("batch-1\u00A0", "white space")]
    [TestCase("\u3000batch-1", "white space")]
    [TestCase("   ", "visible character")]
    [TestCase("\u200B", "visible character")]
    [TestCase("\u200B\u200D\u2060\uFEFF", "visible character")]
    [TestCase("\u3164", "visible character")]
    [TestCase("\u115F\u1160", "visible character")]
    [TestCase("\uFFA0", "visible character")]
    [TestCase("\u2800", "visible character")]
    [TestCase("\u20DD", "visible character")]
    [TestCase("", "must not be empty")]
    [TestCase("\u0301", "visible character")]
    [TestCase("cafe\u0301", "normalization form C")]
    [TestCase("\u212B", "normalization form C")]
    public async Task AReferenceThatLooksLikeAnotherIsRefusedWithTheReason(string reference, string reason)
    {
        var refusal = await Should.ThrowAsync<InvalidInputException>(() => Bus.SendAsync(new CreateBatch(reference, "GARISH-RUG", 1)));

        refusal.Errors["ref"].ShouldHaveSingleItem().ShouldContain(reason);
    }

    [TestCase("caf\u00E9")]
    [TestCase("batch 1")]
    [TestCase("a\u200Bb")]
    [TestCase("\u2764\uFE0F")]
    [TestCase("\U0001F469\u200D\U0001F469\u200D\U0001F467")]
    [TestCase("q\u0307")]
    public async Task AnIdentifierInItsOneFormIsAccepted(string sku)
    {
        await Bus.SendAsync(new CreateBatch("batch-1", sku, 1));

        Bus.UnitOfWork.Repository.Stored(sku).ShouldNotBeNull();
    }

    [Test]
    public async Task LengthIsCountedInUnicodeCodePoints()
    {
        var longest = string.Concat(Enumerable.Repeat("\U0001F389", 255));

        await Bus.SendAsync(new CreateBatch("batch-1", longest, 1));
        var refusal = await Should.ThrowAsync<InvalidInputException>(() => Bus.SendAsync(new CreateBatch("batch-2", longest + "\U0001F389", 1)));

        Bus.UnitOfWork.Repository.Stored(longest).ShouldNotBeNull();
        refusal.Errors["sku"].ShouldHaveSingleItem().ShouldContain("at most 255 characters long; it has 256");
    }

    [Test]
    public async Task DotsWithinAnIdentifierAreAccepted()
    {
        await Bus.SendAsync(new CreateBatch("../batch.1", "...", 1));

        Bus.UnitOfWork.Repository.Stored("...").ShouldNotBeNull().Batches[0].Reference.ShouldBe("../batch.1");
    }

    [Test]
    public void ThisProcessCanTellTextNotInNormalizationFormC() => Rules.ChecksNormalization.ShouldBeTrue();

    private static IEnumerable<TestCaseData> CommandsWithAControlCharacter()
    {
        yield return new TestCaseData(Send(new CreateBatch("batch-1", "RUG\n", 1)), "sku").SetArgDisplayNames("CreateBatch sku");
        yield return new TestCaseData(Send(new Allocate("order\t1", "RUG", 1)), "orderid").SetArgDisplayNames("Allocate orderid");
        yield return new TestCaseData(Send(new Allocate("order-1", "RUG\u007F", 1)), "sku").SetArgDisplayNames("Allocate sku");
        yield return new TestCaseData(Send(new Deallocate("order\u00001", "RUG")), "orderid").SetArgDisplayNames("Deallocate orderid");
        yield return new TestCaseData(Send(new ChangeBatchQuantity("batch\n1", 1)), "ref").SetArgDisplayNames("ChangeBatchQuantity ref (Redis inbound)");
    }

    private static Func<Fakes.FakeBus, Task> Send(Mediator.ICommand command) => bus => bus.SendAsync(command);

    private static Func<Fakes.FakeBus, Task> Send<T>(Mediator.ICommand<T> command) => bus => bus.SendAsync(command);
}
