namespace Allocation.Application.Ports;

/// <summary>Sends a message to the stock team (e-mail to the configured stock address).</summary>
public interface INotifier
{
    /// <param name="messageId">Stable per event, so a re-sent message can be recognised.</param>
    ValueTask NotifyStockTeamAsync(string subject, string body, string messageId, CancellationToken cancellationToken);
}
