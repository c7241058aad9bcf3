using System.ComponentModel.DataAnnotations;

namespace Allocation.Infrastructure.Email;

/// <summary>Configuration section <c>Smtp</c>; without <see cref="Host"/> e-mails are logged instead of sent.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 25;

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary><c>Auto</c>, <c>None</c>, <c>SslOnConnect</c>, <c>StartTls</c> or <c>StartTlsWhenAvailable</c>.</summary>
    public MailKit.Security.SecureSocketOptions Security { get; set; } = MailKit.Security.SecureSocketOptions.Auto;

    [Required(AllowEmptyStrings = false)]
    public string From { get; set; } = "allocation@localhost";

    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 10;
}

/// <summary>Configuration section <c>Notifications</c>.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    [EmailAddress(ErrorMessage = "Notifications:StockAddress must be an e-mail address.")]
    public string StockAddress { get; set; } = "stock@localhost";
}
