using System.Diagnostics;
using System.Net.Sockets;
using Allocation.Testing;

namespace Allocation.E2ETests.Support;

/// <summary>
/// The built service as its own process (<c>dotnet Allocation.Web.dll</c>) behind real Kestrel, configured
/// through environment variables the way operators run it: for tests that must kill it abruptly, and for
/// what only a real server shows (connections, the raw request target, headers Kestrel writes, console logs).
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private const int OutputLines = 1000;
    private readonly Process _process;
    private readonly Queue<string> _output = new();

    private ServiceProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        _process.OutputDataReceived += (_, line) => Keep(line.Data);
        _process.ErrorDataReceived += (_, line) => Keep(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    /// <summary>The folder the service is built to, where its <c>appsettings.json</c> lies.</summary>
    public static string BuildFolder => Path.GetDirectoryName(WebAssemblyPath())!;

    /// <summary>The last lines the service wrote (up to a thousand), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output);
            }
        }
    }

    /// <summary>
    /// Settings for a service on its own database with no Redis (a closed port): HTTP works and events
    /// wait in the outbox.
    /// </summary>
    public static Dictionary<string, string> Standalone(TestDatabase database) => new(StringComparer.Ordinal)
    {
        ["ConnectionStrings:Allocation"] = database.ConnectionString,
        ["ConnectionStrings:Redis"] = $"127.0.0.1:{RedisTestServer.FreePort()},connectTimeout=500",
        ["Redis:Embedded"] = "false",
    };

    /// <summary>Starts the service and waits until it answers HTTP.</summary>
    /// <param name="settings">Configuration keys in their <c>:</c> form, passed as environment variables.</param>
    /// <param name="workingDirectory">Where it is started from; by default the folder it was built to.</param>
    public static async Task<ServiceProcess> StartAsync(IReadOnlyDictionary<string, string> settings, string? workingDirectory = null)
    {
        var address = new Uri($"http://127.0.0.1:{RedisTestServer.FreePort()}");
        var service = new ServiceProcess(Process.Start(StartInfo(settings, address, workingDirectory))!, address);
        try
        {
            await service.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }

        return service;
    }

    /// <summary>Starts the service and waits until it exits by itself, for a service expected not to start.</summary>
    /// <returns>Its exit code and what it wrote.</returns>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(IReadOnlyDictionary<string, string> settings, TimeSpan timeout)
    {
        var service = new ServiceProcess(Process.Start(StartInfo(settings, new Uri($"http://127.0.0.1:{RedisTestServer.FreePort()}"), null))!, new Uri("http://127.0.0.1"));
        await using (service)
        {
            using var patience = new CancellationTokenSource(timeout);
            try
            {
                await service._process.WaitForExitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The service did not exit within {timeout.TotalSeconds:0} s:{Environment.NewLine}{service.Output}");
            }

            // The exit is seen before the last lines are read from its pipes: this waits for them.
            await service._process.WaitForExitAsync();
            return (service._process.ExitCode, service.Output);
        }
    }

    public HttpClient CreateClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Waits until the service has written a line that satisfies <paramref name="match"/>, and returns it.</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> match, string awaited) =>
        (await Eventually.Until(() => Task.FromResult(Lines().FirstOrDefault(match)), line => line is not null, awaited))!;

    /// <summary>The last lines the service wrote, one string per line as it reached standard output.</summary>
    public IReadOnlyList<string> Lines()
    {
        lock (_output)
        {
            return [.. _output];
        }
    }

    /// <summary>Kills the process and its children at once (SIGKILL): nothing gets to shut down cleanly.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string> settings, Uri address, string? workingDirectory)
    {
        var web = WebAssemblyPath();
        var start = new ProcessStartInfo(DotnetHost())
        {
            ArgumentList = { web },
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(web)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = address.ToString();
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["Logging__Json"] = "false";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return start;
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    // The test project references the web project, so the service is built next to the tests; a
    // build of the web project itself is the fallback.
    private static string WebAssemblyPath()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "Allocation.Web.dll");
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
        {
            return beside;
        }

        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Debug";
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var built = Path.Combine(folder.FullName, "src", "Allocation.Web", "bin", configuration, "net10.0", "Allocation.Web.dll");
            if (File.Exists(built))
            {
                return built;
            }
        }

        throw new FileNotFoundException($"Allocation.Web.dll was found neither in {AppContext.BaseDirectory} nor under src/Allocation.Web/bin/{configuration}.");
    }

    private async Task WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with code {_process.ExitCode}:{Environment.NewLine}{Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/allocations/ping", UriKind.Relative));
                return;
            }
            catch (Exception exception) when (exception is HttpRequestException or SocketException or TaskCanceledException)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"The service did not answer HTTP at {Address} within {timeout.TotalSeconds:0} s:{Environment.NewLine}{Output}");
                }

                await Task.Delay(100);
            }
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > OutputLines)
            {
                _output.Dequeue();
            }
        }
    }
}
