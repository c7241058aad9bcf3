using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>What the service, started as operators start it, says about itself at start-up.</summary>
[Category("E2E")]
public class StartUpTests
{
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
