using System.Net;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>
/// The text log format (<c>Logging:Json=false</c>, the Development default), read by people and by tools
/// that take each line for an event: text from a request must not be able to start a line of its own.
/// </summary>
[Category("E2E")]
public class TextLogTests
{
    private const string Forged = "[21:40:00 ERR] Database corrupted";

    [Test]
    public async Task ARequestCannotWriteALineOfItsOwnIntoTheLog()
    {
        using var database = new TestDatabase();
        await using var service = await ServiceProcess.StartAsync(ServiceProcess.Standalone(database));
        using var client = service.CreateClient();

        var read = await client.GetAsync($"/allocations/order-1{Uri.EscapeDataString($"\n{Forged}\r\u001B[2K")}");
        var written = await client.AllocateAsync("order-1", $"RED-CHAIR\n{Forged}", 1);

        read.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        await written.ShouldBeInvalidAsync("sku");
        var logged = await service.WaitForOutputAsync(line => line.Contains("/allocations/order-1", StringComparison.Ordinal), "the read's request log line");
        logged.ShouldContain($"order-1\\n{Forged}\\r\\u001B[2K");
        service.Lines().ShouldNotContain(line => line.Contains(Forged, StringComparison.Ordinal) && !line.Contains("\\n" + Forged, StringComparison.Ordinal));
    }

    [Test]
    public void AnExceptionCannotWriteALineOfItsOwnIntoTheLog()
    {
        using var output = new StringWriter();
        using var logger = new Serilog.LoggerConfiguration()
            .WriteTo.Sink(new Allocation.Web.TextLogEscaping(new TextSink(output)))
            .CreateLogger();

        logger.Error(new InvalidOperationException($"Unknown batch x\n{Forged}"), "Failed for {Sku}", $"RED\n{Forged}");

        var lines = output.ToString().ReplaceLineEndings("\n").Split('\n');
        lines[0].ShouldBe($"[ERR] Failed for RED\\n{Forged}");
        lines.ShouldContain($"  {Forged}");
        lines.Skip(1).ShouldNotContain(line => line.StartsWith('['));
    }

    /// <summary>The text a console sink writes, into a string.</summary>
    private sealed class TextSink(TextWriter output) : Serilog.Core.ILogEventSink
    {
        private readonly Serilog.Formatting.Display.MessageTemplateTextFormatter _formatter = new("[{Level:u3}] {Message:lj}{NewLine}{Exception}");

        public void Emit(Serilog.Events.LogEvent logEvent) => _formatter.Format(logEvent, output);
    }
}
