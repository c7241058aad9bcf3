using System.Diagnostics;
using System.Net;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>The service's SQLite file on a filesystem of a few megabytes that fills up (mounting it needs root).</summary>
[Category("E2E")]
public class FullDiskTests
{
    private string _mount = null!;
    private ServiceProcess? _service;
    private HttpClient? _client;

    [SetUp]
    public async Task MountASmallFilesystem()
    {
        _mount = Path.Combine(Path.GetTempPath(), $"allocation-full-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_mount);
        if (await RunAsync("mount", $"-t tmpfs -o size=3m tmpfs {_mount}") != 0)
        {
            Directory.Delete(_mount);
            Assert.Ignore("Mounting a small filesystem is not permitted here (it needs root).");
        }

        // Room to free later, so that the test can end the shortage the way an operator would.
        await File.WriteAllBytesAsync(Path.Combine(_mount, "filler"), new byte[1024 * 1024]);
        _service = await ServiceProcess.StartAsync(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ConnectionStrings:Allocation"] = $"Data Source={Path.Combine(_mount, "allocation.db")}",
            ["ConnectionStrings:Redis"] = $"127.0.0.1:{RedisTestServer.FreePort()},connectTimeout=500",
            ["Redis:Embedded"] = "false",
        });
        _client = _service.CreateClient();
    }

    [TearDown]
    public async Task Unmount()
    {
        _client?.Dispose();
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        await RunAsync("umount", _mount);
        Directory.Delete(_mount, recursive: true);
    }

    // Redis is absent here, so readiness as a whole fails throughout: the tests look at the database's own check.
    [Test]
    public async Task AFullDiskAnswers503AndFailsReadinessThenRecoversOnceSpaceIsFreed()
    {
        var client = _client!;
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10_000_000)).ShouldBeCreatedAsync();
        var padding = new string('o', 200);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var round = 0; refused is null && round < 1_000; round++)
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => client.AllocateAsync($"{padding}-{round}-{i}", "RED-CHAIR", 1)));
            statuses.AddRange(responses.Select(response => response.StatusCode));
            refused = responses.FirstOrDefault(response => response.StatusCode != HttpStatusCode.Created);
        }

        var whileFull = await _client!.ReadinessOfAsync("database");
        File.Delete(Path.Combine(_mount, "filler"));
        var afterwards = await Eventually.Until(
            async () => (await client.AllocateAsync("order-after", "RED-CHAIR", 1)).StatusCode,
            status => status == HttpStatusCode.Created,
            "an allocation to be accepted once space is freed");

        refused.ShouldNotBeNull("the disk never filled");
        statuses.Distinct().Order().ShouldBe([HttpStatusCode.Created, HttpStatusCode.ServiceUnavailable]);
        (await refused.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable)).Message().ShouldContain("cannot take writes");
        refused.Headers.RetryAfter.ShouldNotBeNull();
        whileFull.ShouldBe("Unhealthy");
        afterwards.ShouldBe(HttpStatusCode.Created);
        await Eventually.Until(() => _client!.ReadinessOfAsync("database"), status => status == "Healthy", "the database to be ready again");
    }


    private static async Task<int> RunAsync(string program, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
            await process.WaitForExitAsync();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }
}
