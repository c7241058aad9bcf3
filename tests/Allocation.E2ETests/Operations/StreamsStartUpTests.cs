using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary><c>Messaging:Transport</c> at start-up: a transport the Redis at hand cannot carry stops the service, saying what to do.</summary>
[Category("E2E")]
public class StreamsStartUpTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task StreamsWithTheEmbeddedBrokerStopStartUpNamingTheSettingAndWhatToDo()
    {
        using var database = new TestDatabase();
        var settings = ServiceProcess.Standalone(database);
        settings["Redis:Embedded"] = "true";
        settings["ConnectionStrings:Redis"] = $"127.0.0.1:{RedisTestServer.FreePort()}";
        settings["Messaging:Transport"] = "Streams";

        var (exitCode, output) = await ServiceProcess.RunUntilExitAsync(settings, Patience);

        exitCode.ShouldBe(1, output);
        output.ShouldContain("Messaging:Transport=Streams needs Redis streams, and the embedded broker");
        output.ShouldContain("or set Messaging:Transport=PubSub");
    }

    [Test]
    public async Task BothTransportsOnAServerWithoutConsumerGroupsStopStartUpNamingWhatItLacks()
    {
        await using var garnet = await RedisTestServer.StartGarnetAsync();
        using var database = new TestDatabase();
        var settings = ServiceProcess.Standalone(database);
        settings["ConnectionStrings:Redis"] = garnet.ConnectionString;
        settings["Messaging:Transport"] = "Both";

        var (exitCode, output) = await ServiceProcess.RunUntilExitAsync(settings, Patience);

        exitCode.ShouldBe(1, output);
        output.ShouldContain("Messaging:Transport=Both needs Redis streams, and the server at ConnectionStrings:Redis does not know");
        output.ShouldContain("XREADGROUP");
    }

    [Test]
    public async Task AnUnknownTransportStopsStartUpNamingTheKey()
    {
        using var database = new TestDatabase();
        var settings = ServiceProcess.Standalone(database);
        settings["Messaging:Transport"] = "Carrier-pigeon";

        var (exitCode, output) = await ServiceProcess.RunUntilExitAsync(settings, Patience);

        exitCode.ShouldBe(1, output);
        output.ShouldContain("Messaging:Transport");
    }

    [Test]
    public async Task PubSubNeedsNoStreamsSoTheEmbeddedBrokerServesIt()
    {
        using var database = new TestDatabase();
        var settings = ServiceProcess.Standalone(database);
        settings["Redis:Embedded"] = "true";
        settings["ConnectionStrings:Redis"] = $"127.0.0.1:{RedisTestServer.FreePort()}";

        await using var service = await ServiceProcess.StartAsync(settings);

        await service.WaitForOutputAsync(line => line.Contains("the embedded broker listens", StringComparison.Ordinal), "the embedded broker to start");
        service.Lines().ShouldNotContain(line => line.Contains("needs Redis streams", StringComparison.Ordinal));
    }
}
