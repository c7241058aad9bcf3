using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>What the service, started as operators start it, says about itself at start-up.</summary>
[Category("E2E")]
public class StartUpTests
{
    [Test]
    public async Task StartedFromAnotherFolderItReadsItsOwnConfiguration()
    {
        using var database = new TestDatabase();

        await using var service = await ServiceProcess.StartAsync(ServiceProcess.Standalone(database), workingDirectory: database.Folder);
        using var client = service.CreateClient();
        var response = await client.GetAsync("/products");

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        var read = await service.WaitForOutputAsync(line => line.Contains("Configuration read from", StringComparison.Ordinal), "the start-up line naming the configuration files");
        read.ShouldContain(Path.Combine(ServiceProcess.BuildFolder, "appsettings.json"));
        await service.WaitForOutputAsync(line => line.Contains("HTTP GET /products responded", StringComparison.Ordinal), "the request's log line");
        service.Lines().ShouldNotContain(line => line.Contains("Request starting", StringComparison.Ordinal), "appsettings.json turns ASP.NET Core's own request logs off");
    }

    [Test]
    public async Task InGlobalizationInvariantModeStartUpSaysNormalizationIsNotChecked()
    {
        using var database = new TestDatabase();
        var settings = ServiceProcess.Standalone(database);
        settings["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";

        await using var service = await ServiceProcess.StartAsync(settings);

        await service.WaitForOutputAsync(line => line.Contains("Unicode normalization is unavailable", StringComparison.Ordinal), "the warning that NFC is not checked");
    }
}
