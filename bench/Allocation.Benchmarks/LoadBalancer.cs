using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Allocation.Benchmarks;

/// <summary>
/// nginx as a round-robin load balancer in front of the instances, a child process of the harness with
/// its configuration, pid, logs and temporary files in a folder of its own (so it runs as root without
/// touching /var). Idempotent requests and POSTs alike go to the next instance when one answers 503 or
/// cannot be reached.
/// </summary>
internal sealed class LoadBalancer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly string _errorLogCopy;
    private readonly IDisposable _teardown;

    private LoadBalancer(Process process, string folder, string errorLogCopy, Uri baseAddress)
    {
        _process = process;
        _folder = folder;
        _errorLogCopy = errorLogCopy;
        BaseAddress = baseAddress;
        _teardown = Teardown.Register(() => Stop(process));
    }

    public Uri BaseAddress { get; }

    /// <summary>Debian's nginx-light puts the binary in /usr/sbin, which is not on every PATH.</summary>
    public static string? Find() => File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : Tools.Find("nginx");

    /// <param name="errorLogCopy">Where nginx's error log is copied when it stops.</param>
    public static async Task<LoadBalancer> StartAsync(string binary, string folder, IEnumerable<Uri> upstreams, string errorLogCopy)
    {
        Directory.CreateDirectory(folder);
        var port = Tools.FreePort();
        var config = Path.Combine(folder, "nginx.conf");
        await File.WriteAllTextAsync(config, Config(folder, port, upstreams));

        var process = Process.Start(new ProcessStartInfo(binary, $"-c \"{config}\" -p \"{folder}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var balancer = new LoadBalancer(process, folder, errorLogCopy, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            // Up when it passes readiness through to an instance.
            using var probe = new HttpClient { BaseAddress = balancer.BaseAddress, Timeout = TimeSpan.FromSeconds(1) };
            var clock = Stopwatch.StartNew();
            while (!await ServiceProcess.IsReadyAsync(probe))
            {
                if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(20))
                {
                    var log = Path.Combine(folder, "error.log");
                    throw new InvalidOperationException(
                        $"nginx did not start ({(process.HasExited ? $"exit code {process.ExitCode}" : "no answer")}): {(File.Exists(log) ? await File.ReadAllTextAsync(log) : "")}");
                }

                await Task.Delay(20);
            }

            return balancer;
        }
        catch
        {
            await balancer.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop(_process);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _teardown.Dispose();
        var log = Path.Combine(_folder, "error.log");
        if (File.Exists(log) && new FileInfo(log).Length > 0)
        {
            File.Copy(log, _errorLogCopy, overwrite: true);
        }

        Directory.Delete(_folder, recursive: true);
    }

    private static string Config(string folder, int port, IEnumerable<Uri> upstreams)
    {
        var servers = new StringBuilder();
        foreach (var upstream in upstreams)
        {
            servers.AppendLine(CultureInfo.InvariantCulture, $"        server 127.0.0.1:{upstream.Port};");
        }

        return $$"""
            daemon off;
            worker_processes 1;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log;

            events {
                worker_connections 4096;
            }

            http {
                access_log off;
                client_body_temp_path {{folder}}/client_body;
                proxy_temp_path {{folder}}/proxy;
                fastcgi_temp_path {{folder}}/fastcgi;
                uwsgi_temp_path {{folder}}/uwsgi;
                scgi_temp_path {{folder}}/scgi;

                upstream allocation {
            {{servers}}        keepalive 128;
                }

                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        proxy_pass http://allocation;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_next_upstream error timeout http_503 non_idempotent;
                    }
                }
            }

            """;
    }

    // SIGTERM: nginx's master stops its workers and exits (a SIGKILL would leave the workers running).
    private static void Stop(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", $"-TERM {process.Id}") { RedirectStandardError = true })!;
        kill.WaitForExit();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            process.Kill(entireProcessTree: true);
        }
    }
}
