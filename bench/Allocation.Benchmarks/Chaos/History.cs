namespace Allocation.Benchmarks.Chaos;

internal enum OperationKind
{
    AddBatch,
    Allocate,
    Deallocate,
    ChangeBatchQuantity,
}

/// <summary>
/// One try of an operation. <paramref name="Status"/> is the HTTP status, 0 when no answer came (refused,
/// reset, timed out): the write may or may not have happened; 0 too for a message sent over Redis.
/// </summary>
internal sealed record Attempt(int Status, string? BatchRef, string? Detail, string Instance, double AtSeconds);

/// <summary>
/// What the harness asked for and every answer it got. A write is retried (same body: every write is
/// idempotent) when no answer came or the answer was a 5xx, and acknowledged when its last answer is a 2xx.
/// A batch change sent to the inbound stream is acknowledged once Redis gave it an entry id: the stream keeps
/// it for the service's consumer group, so the service must apply it whatever happens.
/// </summary>
internal sealed class Operation(OperationKind kind, string? orderId, string sku, int qty, string? reference, Via via = Via.PubSub)
{
    public OperationKind Kind { get; } = kind;

    public string? OrderId { get; } = orderId;

    public string Sku { get; } = sku;

    public int Qty { get; } = qty;

    public string? Reference { get; } = reference;

    /// <summary>For a batch change: pub/sub or the inbound stream.</summary>
    public Via Via { get; } = via;

    public List<Attempt> Attempts { get; } = [];

    /// <summary>For a batch change sent to the stream: the entry's id, once Redis took it.</summary>
    public string? EntryId { get; set; }

    /// <summary>For a published message: how many consumers the transport says heard it (pub/sub's PUBLISH answer).</summary>
    public long? Receivers { get; set; }

    public Attempt? Last => Attempts.Count > 0 ? Attempts[^1] : null;

    public bool Acknowledged => Kind == OperationKind.ChangeBatchQuantity ? EntryId is not null : Last is { Status: >= 200 and < 300 };

    /// <summary>Some try got no answer or a 5xx: the write may have been applied whatever the last answer says.</summary>
    public bool Ambiguous => Attempts.Any(attempt => attempt.Status == 0 || attempt.Status >= 500);

    public override string ToString()
    {
        var what = Kind switch
        {
            OperationKind.AddBatch => $"add_batch {Reference} {Sku} qty {Qty}",
            OperationKind.Allocate => $"allocate {OrderId} {Sku} qty {Qty}",
            OperationKind.Deallocate => $"deallocate {OrderId} {Sku}",
            _ when Via == Via.Stream => $"change_batch_quantity {Reference} qty {Qty} (stream entry {EntryId ?? "not added"})",
            _ => $"change_batch_quantity {Reference} qty {Qty} (heard by {Receivers?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"})",
        };
        var answers = string.Join(", ", Attempts.Select(attempt =>
            $"{(attempt.Instance == "redis" ? "" : attempt.Status == 0 ? "no answer" : attempt.Status.ToString(System.Globalization.CultureInfo.InvariantCulture))}{(attempt.BatchRef is null ? "" : $" {attempt.BatchRef}")}" +
            $"{(attempt.Detail is null ? "" : $" ({attempt.Detail})")} from {attempt.Instance} at {attempt.AtSeconds:0.00} s"));
        return answers.Length == 0 ? what : $"{what}: {answers}";
    }
}

/// <summary>Every operation of one scenario, and a log of what the faults did, with times from the scenario's start.</summary>
internal sealed class History
{
    private readonly List<Operation> _operations = [];
    private readonly List<string> _faultLog = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public double Now => _clock.Elapsed.TotalSeconds;

    public IReadOnlyList<Operation> Operations
    {
        get
        {
            lock (_operations)
            {
                return [.. _operations];
            }
        }
    }

    public IReadOnlyList<string> FaultLog
    {
        get
        {
            lock (_faultLog)
            {
                return [.. _faultLog];
            }
        }
    }

    public void Add(Operation operation)
    {
        lock (_operations)
        {
            _operations.Add(operation);
        }
    }

    public void Fault(string what)
    {
        var line = $"{Now,6:0.00} s  {what}";
        lock (_faultLog)
        {
            _faultLog.Add(line);
        }

        Console.WriteLine($"    {line}");
    }
}
