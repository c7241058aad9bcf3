using Allocation.Application.Ports;
using Allocation.Infrastructure.Telemetry;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Allocation.Infrastructure.Email;

/// <summary>
/// E-mails the stock team over SMTP. It runs from the outbox, after the change committed, so a slow or
/// dead mail server never fails or delays an allocation; a failed send is retried by the outbox. The
/// event's message id becomes the Message-Id header, so a re-sent e-mail can be recognised.
/// </summary>
internal sealed partial class SmtpNotifier(IOptions<SmtpOptions> smtp, IOptions<NotificationOptions> notifications, ServiceMetrics metrics, ILogger<SmtpNotifier> logger) : INotifier
{
    public async ValueTask NotifyStockTeamAsync(string subject, string body, string messageId, CancellationToken cancellationToken)
    {
        var options = smtp.Value;
        using var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.From));
        message.To.Add(MailboxAddress.Parse(notifications.Value.StockAddress));
        message.Subject = subject;
        message.MessageId = $"{messageId}@allocation";
        message.Body = new TextPart("plain") { Text = body };

        using var client = new SmtpClient { Timeout = options.TimeoutSeconds * 1000 };
        try
        {
            await client.ConnectAsync(options.Host!, options.Port, options.Security, cancellationToken);
            if (!string.IsNullOrEmpty(options.UserName))
            {
                await client.AuthenticateAsync(options.UserName, options.Password ?? "", cancellationToken);
            }

            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            metrics.Email("failed");
            if (IsOutage(exception))
            {
                throw new UnavailableException($"The mail server cannot be reached or asks to try later: {exception.Message}", exception);
            }

            throw;
        }

        metrics.Email("sent");
        LogSent(subject, notifications.Value.StockAddress, messageId);
    }

    // Not reaching the server, or a 4xx reply ("try again later"), is an outage that the outbox waits
    // out; a 5xx reply is a refusal of this message, which spends its retry budget.
    private static bool IsOutage(Exception exception) => exception
        is System.Net.Sockets.SocketException or IOException or TimeoutException or SmtpProtocolException
        or ServiceNotConnectedException
        or SmtpCommandException { StatusCode: >= (SmtpStatusCode)400 and < (SmtpStatusCode)500 };

    [LoggerMessage(LogLevel.Information, "E-mail \"{Subject}\" sent to {To} ({MessageId})")]
    private partial void LogSent(string subject, string to, string messageId);
}

/// <summary>Stands in for e-mail when no SMTP host is configured: the message is logged.</summary>
internal sealed partial class LoggingNotifier(IOptions<NotificationOptions> notifications, ServiceMetrics metrics, ILogger<LoggingNotifier> logger) : INotifier
{
    public ValueTask NotifyStockTeamAsync(string subject, string body, string messageId, CancellationToken cancellationToken)
    {
        LogEmail(notifications.Value.StockAddress, subject, body, messageId);
        metrics.Email("logged");
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(LogLevel.Warning, "No SMTP host configured (Smtp:Host); e-mail to {To} not sent: \"{Subject}\" {Body} ({MessageId})")]
    private partial void LogEmail(string to, string subject, string body, string messageId);
}
