using System.Net;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Messaging;

/// <summary><c>OutOfStock</c> e-mails the stock team through a real SMTP server.</summary>
[Category("E2E")]
public class OutOfStockEmailTests
{
    private const string Sku = "SMALL-TABLE";
    private const string StockAddress = "stock-team@example.com";

    [Test]
    public async Task ReallocationThatFindsNoStockSendsOneEmailToTheStockAddress()
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var app = new AllocationApp(redis: redis.ConnectionString, settings: MailSettings(smtp.Port));
        using var client = app.CreateClient();
        await using var upstream = await RedisPublisher.ConnectAsync(redis.ConnectionString);
        (await client.AddBatchAsync("batch-1", Sku, 10)).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await client.AllocateAsync("order-1", Sku, 10)).StatusCode.ShouldBe(HttpStatusCode.Created);
        await upstream.WaitUntilHeardAsync(app);

        await upstream.PublishAsync(app.InboundChannel, """{"batchref": "batch-1", "qty": 5}""");

        await smtp.WaitForMessagesAsync(1, Eventually.Patience);
        await WaitUntilEveryOutOfStockIsDispatchedAsync(app.Database);
        var email = smtp.Messages.ShouldHaveSingleItem();
        email.Subject.ShouldBe($"Out of stock for {Sku}");
        email.To.Mailboxes.Select(mailbox => mailbox.Address).ShouldBe([StockAddress]);
        (await client.BatchOfAsync("order-1", Sku)).ShouldBeNull();
    }

    [Test]
    public async Task DeadMailServerDoesNotFailTheAllocationAndTheEmailIsSentOnceWhenItComesUp()
    {
        var smtpPort = RedisTestServer.FreePort();
        await using var app = new AllocationApp(settings: new Dictionary<string, string?>(MailSettings(smtpPort)) { ["Outbox:MaxRetryDelayMs"] = "500" });
        using var client = app.CreateClient();
        (await client.AddBatchAsync("batch-1", Sku, 10)).StatusCode.ShouldBe(HttpStatusCode.Created);

        using var outOfStock = await client.AllocateAsync("order-1", Sku, 20);
        using var allocated = await client.AllocateAsync("order-2", Sku, 5);

        outOfStock.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await outOfStock.JsonAsync()).Text("message").ShouldBe($"Out of stock for sku {Sku}");
        allocated.StatusCode.ShouldBe(HttpStatusCode.Created);
        app.Database.Outbox("OutOfStock").ShouldHaveSingleItem().Dispatched.ShouldBeFalse();

        await using var smtp = await SmtpTestServer.StartAsync(smtpPort);

        await smtp.WaitForMessagesAsync(1, Eventually.Patience);
        await WaitUntilEveryOutOfStockIsDispatchedAsync(app.Database);
        smtp.Messages.ShouldHaveSingleItem().Subject.ShouldBe($"Out of stock for {Sku}");
    }

    private static Dictionary<string, string?> MailSettings(int smtpPort) => new()
    {
        ["Smtp:Host"] = "127.0.0.1",
        ["Smtp:Port"] = smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Smtp:Security"] = "None",
        ["Notifications:StockAddress"] = StockAddress,
    };

    // Once its outbox entry is marked sent the e-mail is never sent again, so the inbox is final.
    private static Task WaitUntilEveryOutOfStockIsDispatchedAsync(TestDatabase database) =>
        Eventually.Until(
            () => Task.FromResult(database.Outbox("OutOfStock")),
            rows => rows.Count > 0 && rows.All(row => row.Dispatched),
            "every OutOfStock outbox entry to be marked sent");
}
