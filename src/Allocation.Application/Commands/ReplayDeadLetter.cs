using Allocation.Application.Ports;
using Mediator;

namespace Allocation.Application.Commands;

/// <summary>
/// Sends a refused inbound message through again, typically after the upstream data was fixed (the
/// missing batch was added); the outcome is recorded on the dead letter.
/// </summary>
/// <remarks>
/// A request rather than a command: it changes no product itself but sends the message's own command,
/// which runs in its own unit of work; wrapped in one, it would wait for itself.
/// </remarks>
public sealed record ReplayDeadLetter(long Id) : IRequest<InboundOutcome>;

public sealed class ReplayDeadLetterHandler(IDeadLetters deadLetters, IInboundMessages inbound) : IRequestHandler<ReplayDeadLetter, InboundOutcome>
{
    public async ValueTask<InboundOutcome> Handle(ReplayDeadLetter command, CancellationToken cancellationToken)
    {
        var deadLetter = await deadLetters.GetAsync(command.Id, cancellationToken) ?? throw new UnknownDeadLetterException(command.Id);
        if (!inbound.Accepts(deadLetter.Source))
        {
            throw new NotReplayableException(command.Id, $"it is not an inbound message ({deadLetter.Source})");
        }

        if (deadLetter.ReplayOutcome == Applied)
        {
            throw new NotReplayableException(command.Id, "it was already applied");
        }

        var outcome = await inbound.ApplyAsync(deadLetter.Source, deadLetter.Payload, cancellationToken);
        await deadLetters.RecordReplayAsync(command.Id, outcome.Error is null ? Applied : $"refused: {outcome.Error}", cancellationToken);
        return outcome;
    }

    private const string Applied = "applied";
}

public sealed class UnknownDeadLetterException(long id) : Exception($"No dead letter {id}");

public sealed class NotReplayableException(long id, string reason) : Exception($"Dead letter {id} cannot be replayed: {reason}");
