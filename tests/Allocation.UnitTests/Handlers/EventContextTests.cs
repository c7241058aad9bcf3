using Allocation.Application.Bus;

namespace Allocation.UnitTests.Handlers;

public class EventContextTests
{
    [Test]
    public async Task EntriesHandTheirMessagesOverInLaneOrderWhateverTheyAwaitBeforehand()
    {
        var handedOver = new List<int>();
        var contexts = Chain(50);

        await Task.WhenAll(contexts.Select((context, position) => Task.Run(async () =>
        {
            await Task.Delay(Random.Shared.Next(0, 5));
            await context.SendInTurnAsync(() =>
            {
                lock (handedOver)
                {
                    handedOver.Add(position);
                }

                return Task.CompletedTask;
            });
        })));

        handedOver.ShouldBe(Enumerable.Range(0, 50));
    }

    [Test]
    public async Task TheNextEntryGoesAsSoonAsAMessageIsHandedOverWithoutWaitingForItsReply()
    {
        var contexts = Chain(2);
        var reply = new TaskCompletionSource();
        var secondSent = false;

        var first = contexts[0].SendInTurnAsync(() => reply.Task).AsTask();
        await contexts[1].SendInTurnAsync(() =>
        {
            secondSent = true;
            return Task.CompletedTask;
        });

        secondSent.ShouldBeTrue();
        first.IsCompleted.ShouldBeFalse();
        reply.SetResult();
        await first;
    }

    [Test]
    public async Task AnEntryThatCouldNotHandItsMessageOverHoldsBackEveryEntryBehindIt()
    {
        var contexts = Chain(3);
        var sent = new List<int>();

        await Should.ThrowAsync<InvalidOperationException>(() => contexts[0].SendInTurnAsync(() => throw new InvalidOperationException("Redis refused")).AsTask());
        var second = await Should.ThrowAsync<EventContext.NotInTurnException>(() => contexts[1].SendInTurnAsync(() => Record(sent, 1)).AsTask());
        await Should.ThrowAsync<EventContext.NotInTurnException>(() => contexts[2].SendInTurnAsync(() => Record(sent, 2)).AsTask());

        sent.ShouldBeEmpty();
        second.Message.ShouldBe("Not sent: an earlier event of its lane was not sent, and nothing may overtake it.");
    }

    [Test]
    public async Task AnEntryPlacedAfterNoOtherIsSentAtOnce()
    {
        var context = new EventContext { MessageId = "message-1" };
        var sent = new List<int>();

        await context.SendInTurnAsync(() => Record(sent, 1));

        sent.ShouldBe([1]);
        context.MessageId.ShouldBe("message-1");
    }

    [Test]
    public void AMessageIdIsSetByTheOutboxBeforeAnyoneReadsIt()
    {
        var context = new EventContext();

        var error = Should.Throw<InvalidOperationException>(() => context.MessageId);

        error.Message.ShouldBe("Events are dispatched from the outbox, which sets the message id first.");
    }

    private static Task Record(List<int> sent, int position)
    {
        sent.Add(position);
        return Task.CompletedTask;
    }

    // As the outbox dispatcher places a lane's entries: each after the one before.
    private static List<EventContext> Chain(int count)
    {
        var contexts = new List<EventContext>();
        var previous = Task.FromResult(true);
        for (var i = 0; i < count; i++)
        {
            var handedOver = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var context = new EventContext { MessageId = $"message-{i}" };
            context.FollowAfter(previous, handedOver);
            contexts.Add(context);
            previous = handedOver.Task;
        }

        return contexts;
    }
}
