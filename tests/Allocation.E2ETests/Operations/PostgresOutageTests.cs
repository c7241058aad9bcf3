using System.Diagnostics;
using System.Net;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>The service on a PostgreSQL server of the test's own, which the test stops and starts again.</summary>
[Category("E2E")]
public class PostgresOutageTests
{
    private PostgresTestServer _postgres = null!;
    private ServiceProcess _service = null!;
    private HttpClient _client = null!;

    [SetUp]
    public async Task StartServiceOnItsOwnPostgres()
    {
        _postgres = await PostgresTestServer.StartOwnAsync();
        var database = await _postgres.CreateDatabaseAsync();
        _service = await ServiceProcess.StartAsync(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Allocation"] = database,
            ["ConnectionStrings:Redis"] = $"127.0.0.1:{RedisTestServer.FreePort()},connectTimeout=500",
            ["Redis:Embedded"] = "false",
        });
        _client = _service.CreateClient();
    }

    [TearDown]
    public async Task Stop()
    {
        _client?.Dispose();
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }


    // Redis is absent here, so readiness as a whole fails throughout: the tests look at the database's own check.
    [Test]
    public async Task WhilePostgresIsDownWritesAnswer503PromptlyAndReadinessFailsThenBothRecoverWithoutARestart()
    {
        await (await _client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        await _postgres.StopAsync();
        var clock = Stopwatch.StartNew();
        using var refused = await _client.AllocateAsync("order-1", "RED-CHAIR", 1);
        var answeredIn = clock.Elapsed;
        var whileDown = await _client!.ReadinessOfAsync("database");
        await _postgres.StartAgainAsync();
        await Eventually.Until(() => _client!.ReadinessOfAsync("database"), status => status == "Healthy", "the database to be ready once PostgreSQL is back");
        using var accepted = await _client.AllocateAsync("order-1", "RED-CHAIR", 1);

        var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
        refused.Headers.RetryAfter.ShouldNotBeNull();
        problem.Message().ShouldContain("try again later");
        answeredIn.ShouldBeLessThan(TimeSpan.FromSeconds(10));
        whileDown.ShouldBe("Unhealthy");
        (await accepted.ShouldBeAllocatedAsync()).ShouldBe("batch-1");
    }
}
