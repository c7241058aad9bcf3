using Allocation.Application.Ports;
using Allocation.Domain;
using Mediator;

namespace Allocation.Application.Commands;

/// <summary>
/// Sends a dead letter through again: a refused inbound message, typically after the upstream data was
/// fixed (the missing batch was added), or an outbound event the outbox gave up on, once its destination
/// takes it. The outcome is recorded on the dead letter.
/// </summary>
/// <remarks>
/// A request rather than a command: it changes no product itself but sends the message's own command,
/// which runs in its own unit of work; wrapped in one, it would wait for itself.
/// </remarks>
public sealed record ReplayDeadLetter(long Id) : IRequest<ReplayOutcome>;

public sealed class ReplayDeadLetterHandler(IDeadLetters deadLetters, IEnumerable<IReplayer> replayers) : IRequestHandler<ReplayDeadLetter, ReplayOutcome>
{
    public async ValueTask<ReplayOutcome> Handle(ReplayDeadLetter command, CancellationToken cancellationToken)
    {
        var deadLetter = await deadLetters.GetAsync(command.Id, cancellationToken) ?? throw new UnknownDeadLetterException(command.Id);
        var replayer = replayers.FirstOrDefault(candidate => candidate.Accepts(deadLetter.Source))
            ?? throw new NotReplayableException(command.Id, $"nothing in this service sends messages of {deadLetter.Source}");
        if (deadLetter.ReplayOutcome == Applied)
        {
            throw new NotReplayableException(command.Id, "it was already applied");
        }

        if (deadLetter.Truncated)
        {
            throw new NotReplayableException(command.Id, $"only part of its {deadLetter.Size} bytes was kept");
        }

        var outcome = await replayer.ReplayAsync(deadLetter, cancellationToken);
        await deadLetters.RecordReplayAsync(command.Id, outcome.WasApplied ? Applied : $"refused: {outcome.Error}", cancellationToken);
        return outcome;
    }

    private const string Applied = "applied";
}

public sealed class UnknownDeadLetterException(long id) : RejectedException($"No dead letter {id}", 404, "Not found");

public sealed class NotReplayableException(long id, string reason) : RejectedException($"Dead letter {id} cannot be replayed: {reason}", 409, "Not replayable");
