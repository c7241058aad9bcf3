using System.Diagnostics;

namespace Allocation.Benchmarks.Chaos;

/// <summary>
/// What one setup runs on while its scenarios go: the instances, the proxy between them and Redis, the
/// SMTP server and, for PostgreSQL, the cluster. Which instance leads is read from the instances' own
/// logs ("This instance leads", "lost the lead").
/// </summary>
internal sealed class Rig(ServiceInstances services, TcpProxy redisProxy, SmtpSink smtp, BenchPostgres? postgres, bool[] leads)
{
    public ServiceInstances Services => services;

    public TcpProxy RedisProxy => redisProxy;

    public SmtpSink Smtp => smtp;

    public BenchPostgres? Postgres => postgres;

    /// <summary>The instance whose log last said it leads (the first one if none did), and its number from 1.</summary>
    public (ServiceProcess Instance, int Number) Leader()
    {
        lock (leads)
        {
            var i = Array.IndexOf(leads, true);
            return i < 0 ? (services.All[0], 1) : (services.All[i], i + 1);
        }
    }

    public void Follows(int number)
    {
        lock (leads)
        {
            leads[number - 1] = false;
        }
    }

    /// <summary>Puts everything back as it was before the scenario's fault: Redis and SMTP reachable, mail accepted.</summary>
    public void Heal()
    {
        redisProxy.Restore();
        smtp.Up();
        smtp.Mode = SmtpMode.Accept;
    }
}

/// <summary>One scenario's fault: injected a bounded number of times within the load's duration, healed at the end.</summary>
internal sealed record Fault(string Key, string Name, Func<Rig, History, ChaosTiming, CancellationToken, Task<int>>? InjectAsync)
{
    public bool IsBaseline => InjectAsync is null;

    public static IEnumerable<Fault> For(Rig rig)
    {
        var many = rig.Services.All.Count > 1;
        yield return new Fault("baseline", "none (baseline)", null);
        yield return new Fault("kill", many ? "SIGKILL of the leader, restart" : "SIGKILL, restart", KillAsync);
        yield return new Fault("redis", "Redis cut off and back", RedisAsync);
        yield return new Fault("smtp", "SMTP 4xx, down, 5xx", SmtpAsync);
        if (rig.Postgres is { CanRestart: true })
        {
            yield return new Fault("postgres", "PostgreSQL stopped and started", PostgresAsync);
        }
    }

    /// <summary>When the i-th of n injections starts, from the load's start.</summary>
    private static TimeSpan At(ChaosTiming timing, int i) => timing.Load * (0.2 + (i * 0.45));

    private static async Task WaitUntil(Stopwatch clock, TimeSpan at, CancellationToken cancellationToken)
    {
        if (at > clock.Elapsed)
        {
            await Task.Delay(at - clock.Elapsed, cancellationToken);
        }
    }

    private static async Task<int> KillAsync(Rig rig, History history, ChaosTiming timing, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < timing.Repeats; i++)
        {
            await WaitUntil(clock, At(timing, i), cancellationToken);
            var (instance, number) = rig.Leader();
            history.Fault($"SIGKILL instance #{number} (pid {instance.Pid}){(rig.Services.All.Count > 1 ? ", the leader" : "")}");
            await instance.KillAsync();
            rig.Follows(number);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var down = Stopwatch.StartNew();
            await instance.RestartAsync();
            history.Fault($"instance #{number} restarted on {instance.BaseAddress} (pid {instance.Pid}), ready after {down.Elapsed.TotalSeconds:0.0} s");
        }

        return timing.Repeats;
    }

    private static async Task<int> RedisAsync(Rig rig, History history, ChaosTiming timing, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var outage = TimeSpan.FromSeconds(Math.Clamp(timing.Load.TotalSeconds * 0.15, 2, 5));
        for (var i = 0; i < timing.Repeats; i++)
        {
            await WaitUntil(clock, At(timing, i), cancellationToken);
            var before = rig.RedisProxy.ConnectionsReset;
            rig.RedisProxy.Cut();
            history.Fault($"Redis cut off: {rig.RedisProxy.ConnectionsReset - before} connections reset, new ones refused");
            await Task.Delay(outage, cancellationToken);
            rig.RedisProxy.Restore();
            history.Fault($"Redis back after {outage.TotalSeconds:0.0} s");
        }

        return timing.Repeats;
    }

    // 4xx (try later) for a while, accepting, down (connections reset and refused), accepting, then a 5xx
    // for a third of the messages, long enough for a refused one to spend its budget, then accepting.
    private static async Task<int> SmtpAsync(Rig rig, History history, ChaosTiming timing, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        async Task Phase(double from, double to, string what, Action start, Action end)
        {
            await WaitUntil(clock, timing.Load * from, cancellationToken);
            start();
            history.Fault($"SMTP {what}");
            await WaitUntil(clock, timing.Load * to, cancellationToken);
            end();
            history.Fault("SMTP accepting");
        }

        await Phase(0.08, 0.25, "answers 451 (try again later) to every message", () => rig.Smtp.Mode = SmtpMode.TryLater, () => rig.Smtp.Mode = SmtpMode.Accept);
        await Phase(0.30, 0.42, "down (connections reset, new ones refused)", rig.Smtp.Down, rig.Smtp.Up);
        await Phase(0.48, 0.90, "answers 554 (refused) to a third of the messages", () => rig.Smtp.Mode = SmtpMode.RefuseSome, () => rig.Smtp.Mode = SmtpMode.Accept);
        return 3;
    }

    // A real outage, not only a restart: stopped (every connection cut, a clean shutdown), a few seconds
    // down (writes answer 503, stream entries stay pending, the lead is lost), started again.
    private static async Task<int> PostgresAsync(Rig rig, History history, ChaosTiming timing, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var outage = TimeSpan.FromSeconds(Math.Clamp(timing.Load.TotalSeconds * 0.15, 1, 4));
        for (var i = 0; i < timing.Repeats; i++)
        {
            await WaitUntil(clock, At(timing, i), cancellationToken);
            history.Fault("pg_ctl -m fast stop");
            var down = Stopwatch.StartNew();
            await Task.Run(rig.Postgres!.StopServer, cancellationToken);
            history.Fault($"PostgreSQL stopped after {down.Elapsed.TotalSeconds:0.0} s");
            await Task.Delay(outage, cancellationToken);
            history.Fault("pg_ctl start");
            await Task.Run(rig.Postgres!.StartServer, CancellationToken.None);
            history.Fault($"PostgreSQL back, {down.Elapsed.TotalSeconds:0.0} s after the stop began");
        }

        return timing.Repeats;
    }
}
