using System.Globalization;

namespace Allocation.Benchmarks.Chaos;

/// <summary>
/// <c>chaos [--quick] [--provider sqlite|postgres|both] [--transport pubsub|streams|both] [--only baseline,kill,redis,smtp,postgres] [--seed n]</c>.
/// </summary>
internal sealed record ChaosOptions(bool Quick, string Provider, IReadOnlySet<Via> Transports, HashSet<string>? Only, int Seed)
{
    public const string Usage =
        "Usage: chaos [--quick] [--provider sqlite|postgres|both] [--transport pubsub|streams|both] [--only baseline,kill,redis,smtp,postgres] [--seed <n>]";

    public static ChaosOptions Parse(string[] args)
    {
        var quick = false;
        var provider = "both";
        var transport = "both";
        HashSet<string>? only = null;
        var seed = Environment.TickCount & 0xFFFF;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--provider": provider = Next(args, ref i).ToLowerInvariant(); break;
                case "--transport": transport = Next(args, ref i); break;
                case "--only": only = Next(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase); break;
                case "--seed": seed = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown option {args[i]}. {Usage}");
            }
        }

        if (provider is not ("sqlite" or "postgres" or "both"))
        {
            throw new ArgumentException($"Unknown provider {provider}. {Usage}");
        }

        return new ChaosOptions(quick, provider, RedisMessaging.Parse(transport), only, seed);
    }

    public bool Includes(string fault) => Only is null || Only.Contains(fault);

    /// <summary>
    /// How long and how much: on two shared cores a quick run takes about four minutes with both providers;
    /// a full one about two minutes a scenario, most of it the drain (thousands of out-of-stock e-mails,
    /// which the service sends one at a time), bounded at four.
    /// </summary>
    public ChaosTiming Timing => Quick
        ? new ChaosTiming(Load: TimeSpan.FromSeconds(7), MaxAllocations: 700, Repeats: 1, Skus: 12, Drain: TimeSpan.FromSeconds(45))
        : new ChaosTiming(Load: TimeSpan.FromSeconds(30), MaxAllocations: 4_000, Repeats: 2, Skus: 24, Drain: TimeSpan.FromSeconds(240));

    private static string Next(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value. {Usage}");
}

/// <param name="Load">How long load runs in each scenario, while its fault is injected.</param>
/// <param name="MaxAllocations">Most allocation requests of one scenario, whatever the time.</param>
/// <param name="Repeats">How many times each fault is injected in its scenario.</param>
/// <param name="Skus">SKUs of each scenario.</param>
/// <param name="Drain">Longest wait, after the load, for the outbox to empty.</param>
internal sealed record ChaosTiming(TimeSpan Load, int MaxAllocations, int Repeats, int Skus, TimeSpan Drain);
