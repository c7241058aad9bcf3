using Allocation.Application.Commands;
using Allocation.Application.Ports;

namespace Allocation.UnitTests.Handlers;

public class ReplayDeadLetterTests : BusFixture
{
    private const string Inbound = "redis:change_batch_quantity";

    [Test]
    public async Task AReplayThatIsAppliedIsRecordedAsApplied()
    {
        var letter = Bus.DeadLetters.Add(Inbound);

        var outcome = await Bus.AskAsync(new ReplayDeadLetter(letter.Id));

        outcome.WasApplied.ShouldBeTrue();
        Bus.Replayer.Replayed.ShouldBe([letter.Id]);
        Bus.DeadLetters.Replays.ShouldBe(new Dictionary<long, string> { [letter.Id] = "applied" });
    }

    [Test]
    public async Task AReplayThatIsRefusedAgainIsRecordedWithTheReason()
    {
        var letter = Bus.DeadLetters.Add(Inbound);
        Bus.Replayer.Outcome = new ReplayOutcome("Unknown batch batch-9");

        var outcome = await Bus.AskAsync(new ReplayDeadLetter(letter.Id));

        outcome.Error.ShouldBe("Unknown batch batch-9");
        Bus.DeadLetters.Replays.ShouldBe(new Dictionary<long, string> { [letter.Id] = "refused: Unknown batch batch-9" });
    }

    [Test]
    public async Task AnUnknownDeadLetterIsNotFound()
    {
        var refused = await Should.ThrowAsync<UnknownDeadLetterException>(() => Bus.AskAsync(new ReplayDeadLetter(42)));

        (refused.Status, refused.Title, refused.Message).ShouldBe((404, "Not found", "No dead letter 42"));
    }

    [Test]
    public async Task ADeadLetterNoReplayerAcceptsIsNotReplayable()
    {
        var letter = Bus.DeadLetters.Add("redis:another_channel");

        var refused = await Should.ThrowAsync<NotReplayableException>(() => Bus.AskAsync(new ReplayDeadLetter(letter.Id)));

        (refused.Status, refused.Title, refused.Message).ShouldBe((409, "Not replayable", $"Dead letter {letter.Id} cannot be replayed: nothing in this service sends messages of redis:another_channel"));
        Bus.Replayer.Replayed.ShouldBeEmpty();
        Bus.DeadLetters.Replays.ShouldBeEmpty();
    }

    [Test]
    public async Task ADeadLetterAlreadyAppliedIsNotReplayedAgain()
    {
        var letter = Bus.DeadLetters.Add(Inbound, replayOutcome: "applied");

        var refused = await Should.ThrowAsync<NotReplayableException>(() => Bus.AskAsync(new ReplayDeadLetter(letter.Id)));

        refused.Message.ShouldBe($"Dead letter {letter.Id} cannot be replayed: it was already applied");
        Bus.Replayer.Replayed.ShouldBeEmpty();
    }

    [Test]
    public async Task ADeadLetterRefusedOnAnEarlierReplayIsReplayedAgain()
    {
        var letter = Bus.DeadLetters.Add(Inbound, replayOutcome: "refused: Unknown batch batch-9");

        var outcome = await Bus.AskAsync(new ReplayDeadLetter(letter.Id));

        outcome.WasApplied.ShouldBeTrue();
        Bus.Replayer.Replayed.ShouldBe([letter.Id]);
    }

    [Test]
    public void ADeadLetterGivesBackTheBytesItKeptAsTextOrAsBase64()
    {
        var text = Bus.DeadLetters.Add(Inbound, payload: "caf\u00E9");
        var binary = text with { Payload = Convert.ToBase64String([0x7B, 0xFF, 0x7D]), PayloadEncoding = DeadLetter.Base64 };

        text.Bytes.ShouldBe([0x63, 0x61, 0x66, 0xC3, 0xA9]);
        binary.Bytes.ShouldBe([0x7B, 0xFF, 0x7D]);
    }

    [Test]
    public async Task ATruncatedDeadLetterIsNotReplayable()
    {
        var letter = Bus.DeadLetters.Add(Inbound, payload: "{\"batchref\": \"batch", truncated: true);

        var refused = await Should.ThrowAsync<NotReplayableException>(() => Bus.AskAsync(new ReplayDeadLetter(letter.Id)));

        refused.Message.ShouldBe($"Dead letter {letter.Id} cannot be replayed: only part of its 19 bytes was kept");
        Bus.Replayer.Replayed.ShouldBeEmpty();
    }
}
