using System.Net;
using System.Text.Json;

namespace Allocation.Benchmarks.Chaos;

/// <summary>What the checks of one scenario found: the table's counts, and each violation with enough to debug it.</summary>
internal sealed class Verdict
{
    private readonly HashSet<Operation> _lost = [];

    public List<string> Violations { get; } = [];

    public SortedDictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);

    /// <summary>Acknowledged writes that are not stored as acknowledged.</summary>
    public int Lost => _lost.Count;

    /// <summary>Deliveries beyond the first of one message id (downstream messages and e-mails).</summary>
    public long Duplicates { get; set; }

    /// <summary>Committed events that never reached their destination (nor became a dead letter, for e-mails).</summary>
    public long Undelivered { get; set; }

    public void Violation(string kind, string detail) => Violations.Add($"{kind}: {detail}");

    public void LostWrite(Operation operation, string kind, string detail)
    {
        _lost.Add(operation);
        Violation(kind, detail);
    }

    public void Count(string name, long by = 1) => Counts[name] = Counts.GetValueOrDefault(name) + by;
}

/// <summary>The settings the checks depend on.</summary>
/// <param name="MaxAttempts">The service's Outbox:MaxAttempts: refusals an e-mail may get before it becomes a dead letter.</param>
/// <param name="FaultFree">The baseline: no duplicates, every request answered, every pub/sub message applied.</param>
/// <param name="Downstream">Where the service sends its events, each of which must hear every one.</param>
internal sealed record CheckSettings(int MaxAttempts, bool FaultFree, IReadOnlySet<Via> Downstream);

/// <summary>
/// Checks one scenario's history against what the service stored and sent, once its outbox drained:
/// acknowledged writes are stored as acknowledged, no batch is over-allocated, the read model equals the
/// tables, every committed event reached its destination at least once (duplicates only as redeliveries),
/// every out-of-stock e-mail was sent or is a dead letter, and batch changes applied are ones sent; every
/// entry of the inbound stream applied (each batch ends at the last quantity added for it) and acknowledged.
/// </summary>
internal static class Checks
{
    private const string Allocated = "Allocated";
    private const string Deallocated = "Deallocated";
    private const string LineCancelled = "LineCancelled";
    private const string OutOfStock = "OutOfStock";

    public static async Task<Verdict> RunAsync(
        ScenarioPlan plan,
        IReadOnlyList<Operation> operations,
        Tables tables,
        IReadOnlyList<Heard> heard,
        IReadOnlyDictionary<string, MailRecord> mail,
        ServiceClient client,
        InboundStreamState? inboundStream,
        CheckSettings settings,
        int seed)
    {
        var verdict = new Verdict();
        var batches = tables.Batches.Where(batch => plan.Owns(batch.Sku)).ToList();
        var batchById = tables.Batches.ToDictionary(batch => batch.Id);
        var lines = tables.Lines.Where(line => plan.Owns(line.Sku)).ToDictionary(line => (line.OrderId, line.Sku));
        var outbox = tables.Outbox.Where(row => plan.Owns(row.Sku)).ToList();
        var deadLetterIds = tables.DeadLetters.Where(letter => letter.MessageId is not null).ToLookup(letter => letter.MessageId!);
        var events = outbox.Where(row => row.Type is Allocated or Deallocated or LineCancelled)
            .GroupBy(row => (row.OrderId ?? "", row.Sku ?? ""))
            .ToDictionary(group => group.Key, group => group.OrderBy(row => row.Id).ToList());

        Tally(operations, outbox, verdict);
        CheckAnswers(operations, settings, verdict);
        CheckBatches(operations, batches, lines.Values, settings, verdict);
        CheckLines(operations, lines, events, batchById, verdict);
        CheckDownstream(plan, outbox, heard, deadLetterIds, settings, verdict);
        CheckMail(plan, outbox, mail, deadLetterIds, settings, verdict);
        CheckDeadLetters(plan, outbox, tables.DeadLetters, settings, verdict);
        CheckInboundStream(inboundStream, verdict);
        await CheckReadModelAsync(plan, operations, batches, lines.Values, batchById, client, seed, verdict);
        return verdict;
    }

    private static void Tally(IReadOnlyList<Operation> operations, List<OutboxRow> outbox, Verdict verdict)
    {
        foreach (var operation in operations)
        {
            var name = operation.Kind switch
            {
                OperationKind.AddBatch => "add_batch",
                OperationKind.Allocate => "allocate",
                OperationKind.Deallocate => "deallocate",
                _ => "change_batch_quantity",
            };
            verdict.Count(name);
            if (operation.Kind == OperationKind.ChangeBatchQuantity)
            {
                verdict.Count(operation.Via == Via.Stream
                    ? operation.EntryId is null ? "change_batch_quantity XADD failed" : "change_batch_quantity stream entries"
                    : operation.Receivers > 0 ? "change_batch_quantity heard by the service" : "change_batch_quantity heard by nobody");
                continue;
            }

            verdict.Count($"{name} {(operation.Last?.Status is { } status and > 0 ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unanswered")}");
            verdict.Count("http tries", operation.Attempts.Count);
            verdict.Count("http tries unanswered", operation.Attempts.Count(attempt => attempt.Status == 0));
            verdict.Count("http tries 503", operation.Attempts.Count(attempt => attempt.Status == 503));
        }

        foreach (var row in outbox)
        {
            verdict.Count($"events {row.Type}");
        }
    }

    private static void CheckAnswers(IReadOnlyList<Operation> operations, CheckSettings settings, Verdict verdict)
    {
        foreach (var operation in operations.Where(operation => operation.Kind != OperationKind.ChangeBatchQuantity))
        {
            if (operation.Attempts.FirstOrDefault(attempt => attempt.Status == 500) is not null)
            {
                verdict.Violation("a 500 answer", operation.ToString());
            }

            var status = operation.Last?.Status ?? 0;
            var expected = operation.Kind switch
            {
                OperationKind.AddBatch => status is 201,
                OperationKind.Allocate => status is 201 || (status is 409 && operation.Last!.Detail?.StartsWith("Out of stock", StringComparison.Ordinal) == true),
                _ => status is 200 or 404,
            };
            if (status is 0 or >= 500)
            {
                if (settings.FaultFree)
                {
                    verdict.Violation("no answer in a fault-free run", operation.ToString());
                }
            }
            else if (!expected)
            {
                verdict.Violation("unexpected answer", operation.ToString());
            }
        }
    }

    private static void CheckBatches(
        IReadOnlyList<Operation> operations, List<BatchRow> batches, IEnumerable<LineRow> lines, CheckSettings settings, Verdict verdict)
    {
        var byReference = batches.ToDictionary(batch => batch.Reference);
        var changes = operations.Where(operation => operation.Kind == OperationKind.ChangeBatchQuantity).ToLookup(operation => operation.Reference!);
        foreach (var operation in operations.Where(operation => operation.Kind == OperationKind.AddBatch && operation.Acknowledged))
        {
            if (!byReference.TryGetValue(operation.Reference!, out var batch) || batch.Sku != operation.Sku)
            {
                verdict.LostWrite(operation, "acknowledged batch missing", $"{operation}; stored: {(batch is null ? "nothing" : batch.ToString())}");
                continue;
            }

            // A batch's quantity is the one it was created with or one that was sent for it (over pub/sub, heard
            // by a consumer; on the stream, added or maybe added); with nothing lost in a fault-free run, the last one sent.
            var sent = changes[batch.Reference].ToList();
            var heard = sent.Where(change => change.Via == Via.Stream || change.Receivers is null or > 0).ToList();
            var possible = heard.Select(change => change.Qty).Append(operation.Qty).ToHashSet();
            if (!possible.Contains(batch.Purchased))
            {
                verdict.LostWrite(operation, "batch quantity never asked for", $"{batch}: created with {operation.Qty}, changes heard: [{string.Join(", ", heard.Select(change => change.Qty))}]");
            }
            else if (sent.Count > 0 && sent.All(change => change.Via == Via.Stream && change.EntryId is not null))
            {
                // Stream entries are kept until acknowledged: whatever the fault, each batch ends at the last entry added for it.
                var last = sent[^1];
                if (batch.Purchased != last.Qty || batch.LastChange != last.EntryId)
                {
                    verdict.LostWrite(
                        last,
                        "inbound stream entry not applied",
                        $"{batch}: the last entry added was {last}; the batch's last applied entry is {batch.LastChange ?? "none"}; entries: [{string.Join(", ", sent.Select(change => $"{change.EntryId} qty {change.Qty}"))}]");
                }
            }
            else if (settings.FaultFree && sent.LastOrDefault(change => change.Receivers > 0) is { } last && batch.Purchased != last.Qty)
            {
                verdict.Violation("batch change not applied in a fault-free run", $"{batch}: the last change heard was {last}");
            }
        }

        var sums = lines.GroupBy(line => line.BatchId).ToDictionary(group => group.Key, group => group.Sum(line => line.Qty));
        foreach (var batch in batches)
        {
            var sum = sums.GetValueOrDefault(batch.Id);
            if (batch.Allocated > batch.Purchased)
            {
                verdict.Violation("over-allocated batch", $"{batch}: allocated {batch.Allocated} > purchased {batch.Purchased}");
            }

            if (batch.Allocated != sum)
            {
                verdict.Violation("batch total differs from its lines", $"{batch}: allocated_quantity {batch.Allocated}, its lines add up to {sum}");
            }
        }
    }

    private static void CheckLines(
        IReadOnlyList<Operation> operations,
        Dictionary<(string OrderId, string Sku), LineRow> lines,
        Dictionary<(string, string), List<OutboxRow>> events,
        Dictionary<long, BatchRow> batchById,
        Verdict verdict)
    {
        string Where(LineRow? line) => line is null ? "not allocated" : $"allocated to {batchById[line.BatchId].Reference} (qty {line.Qty})";
        string Events((string, string) key) => events.TryGetValue(key, out var rows) ? string.Join("; ", rows.Select(row => $"#{row.Id} {row.Type} {row.BatchRef}")) : "no events";

        var acknowledged = operations.Where(operation => operation.Acknowledged && operation.Kind is OperationKind.Allocate or OperationKind.Deallocate)
            .ToLookup(operation => (operation.OrderId!, operation.Sku));
        foreach (var operation in operations.Where(operation => operation.Kind == OperationKind.Allocate))
        {
            var key = (operation.OrderId!, operation.Sku);
            var rows = events.GetValueOrDefault(key) ?? [];
            lines.TryGetValue(key, out var line);
            if (operation.Acknowledged)
            {
                var batchRef = operation.Last!.BatchRef;
                if (!rows.Any(row => row.Type == Allocated && row.BatchRef == batchRef && row.Qty == operation.Qty))
                {
                    verdict.LostWrite(operation, "acknowledged allocation without its Allocated event", $"{operation}; now {Where(line)}; events: {Events(key)}");
                }
            }
            else if (operation.Last is { Status: 409 } && !operation.Ambiguous && rows.Any(row => row.Type == Allocated))
            {
                verdict.Violation("allocated although answered 409", $"{operation}; now {Where(line)}; events: {Events(key)}");
            }
        }

        foreach (var operation in operations.Where(operation => operation.Kind == OperationKind.Deallocate && operation.Acknowledged))
        {
            var key = (operation.OrderId!, operation.Sku);
            var rows = events.GetValueOrDefault(key) ?? [];
            lines.TryGetValue(key, out var line);
            if (!rows.Any(row => row.Type == LineCancelled && row.BatchRef == operation.Last!.BatchRef))
            {
                verdict.LostWrite(operation, "acknowledged cancel without its LineCancelled event", $"{operation}; now {Where(line)}; events: {Events(key)}");
            }
            else if (line is not null)
            {
                verdict.LostWrite(operation, "cancelled line still allocated", $"{operation}; now {Where(line)}; events: {Events(key)}");
            }
        }

        // Every line ends where its last event put it: allocated to the batch of its last Allocated, or not at all.
        foreach (var key in events.Keys.Union(lines.Keys.Select(key => (key.OrderId, key.Sku))))
        {
            var rows = events.GetValueOrDefault(key) ?? [];
            lines.TryGetValue(key, out var line);
            var last = rows.LastOrDefault();
            var cancelled = rows.FindIndex(row => row.Type == LineCancelled);
            if (cancelled >= 0 && rows.Skip(cancelled + 1).Any(row => row.Type == Allocated))
            {
                verdict.Violation("cancelled line allocated again", $"{key}: events {Events(key)}");
            }

            var expected = last is { Type: Allocated } ? $"allocated to {last.BatchRef} (qty {last.Qty})" : "not allocated";
            if (Where(line) != expected)
            {
                var detail = $"{key}: stored {Where(line)}, its events say {expected}; events: {Events(key)}";
                var acknowledgedHere = acknowledged[key].ToList();
                if (acknowledgedHere.Count > 0)
                {
                    verdict.LostWrite(acknowledgedHere[^1], "line not as its events left it", $"{detail}; answers: {string.Join(" | ", acknowledgedHere)}");
                }
                else
                {
                    verdict.Violation("line not as its events left it", detail);
                }
            }
        }
    }

    private static void CheckDownstream(
        ScenarioPlan plan, List<OutboxRow> outbox, IReadOnlyList<Heard> heard, ILookup<string, DeadLetterRow> deadLetters, CheckSettings settings, Verdict verdict)
    {
        var rows = outbox.Where(row => row.Type is Allocated or LineCancelled).ToDictionary(row => row.MessageId);
        static string ChannelOf(OutboxRow row) => row.Type == Allocated ? RedisMessaging.Allocated : RedisMessaging.Deallocated;

        // Each transport the service sends on is a downstream of its own: each must hear every event, once
        // but for redeliveries; the same event on pub/sub and on the stream is not a duplicate.
        foreach (var via in settings.Downstream.Order())
        {
            var transport = RedisMessaging.Name(via);
            var mine = heard.Where(message => message.Via == via && plan.Owns(message.Sku)).ToList();
            var byId = mine.Where(message => message.MessageId is not null).GroupBy(message => message.MessageId!).ToDictionary(group => group.Key, group => group.ToList());
            verdict.Count($"downstream messages heard ({transport})", mine.Count);

            foreach (var row in rows.Values)
            {
                if (!byId.TryGetValue(row.MessageId, out var copies) || copies.All(copy => copy.Channel != ChannelOf(row)))
                {
                    verdict.Undelivered++;
                    verdict.Violation(
                        deadLetters.Contains(row.MessageId) ? "committed event given up, never heard downstream" : "committed event never heard downstream",
                        $"{row} on {ChannelOf(row)} ({transport})");
                }
            }

            foreach (var message in mine.Where(message => message.MessageId is null))
            {
                verdict.Violation("downstream message without a message_id", $"{message.Channel} ({transport}): {message.Payload}");
            }

            foreach (var (id, copies) in byId)
            {
                if (!rows.TryGetValue(id, out var row))
                {
                    verdict.Violation("downstream message that no committed event explains", $"{copies[0].Channel} ({transport}): {copies[0].Payload} (×{copies.Count})");
                    continue;
                }

                foreach (var copy in copies.Where(copy => copy.Channel != ChannelOf(row) || copy.OrderId != row.OrderId || copy.Sku != row.Sku || copy.Qty != row.Qty || copy.BatchRef != row.BatchRef))
                {
                    verdict.Violation("downstream message differs from its event", $"heard on {copy.Channel} ({transport}): {copy.Payload}; committed: {row}");
                }

                if (copies.Count > 1)
                {
                    verdict.Duplicates += copies.Count - 1;
                    if (copies.Any(copy => copy.Payload != copies[0].Payload))
                    {
                        verdict.Violation("redelivery with other content", $"{id} ({transport}): {string.Join(" | ", copies.Select(copy => copy.Payload).Distinct())}");
                    }

                    if (settings.FaultFree)
                    {
                        verdict.Violation("published twice in a fault-free run", $"{row} heard ×{copies.Count} ({transport})");
                    }
                }
            }

            // The events of one SKU go out in the order their changes committed: first arrivals follow outbox ids.
            foreach (var group in mine.Where(message => message.MessageId is not null && rows.ContainsKey(message.MessageId))
                         .GroupBy(message => (message.Channel, message.Sku)))
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                OutboxRow? previous = null;
                foreach (var message in group)
                {
                    if (!seen.Add(message.MessageId!))
                    {
                        continue;
                    }

                    var row = rows[message.MessageId!];
                    if (previous is not null && row.Id < previous.Id)
                    {
                        verdict.Violation("events of one SKU heard out of commit order", $"on {group.Key.Channel} ({transport}): {row} arrived after {previous}");
                    }

                    previous = row.Id > (previous?.Id ?? long.MinValue) ? row : previous;
                }
            }
        }
    }

    private static void CheckMail(
        ScenarioPlan plan, List<OutboxRow> outbox, IReadOnlyDictionary<string, MailRecord> mail, ILookup<string, DeadLetterRow> deadLetters, CheckSettings settings, Verdict verdict)
    {
        var rows = outbox.Where(row => row.Type == OutOfStock).ToList();
        var ids = rows.Select(row => row.MessageId).ToHashSet(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var record = mail.GetValueOrDefault(row.MessageId);
            var givenUp = deadLetters[row.MessageId].Where(letter => letter.Source == $"outbox:{OutOfStock}").ToList();
            verdict.Count("smtp 5xx refusals", record?.Refused ?? 0);
            verdict.Count("smtp 4xx try-later", record?.TriedLater ?? 0);
            if (record is { Accepted: > 0 })
            {
                verdict.Count("e-mails sent");
                if (record.Subject != $"Out of stock for {row.Sku}")
                {
                    verdict.Violation("e-mail subject differs from its event", $"\"{record.Subject}\" for {row}");
                }

                if (givenUp.Count > 0)
                {
                    verdict.Violation("e-mail both sent and given up", $"{row}; dead letter #{givenUp[0].Id}: {givenUp[0].Error}");
                }

                if (record.Accepted > 1)
                {
                    verdict.Duplicates += record.Accepted - 1;
                    if (settings.FaultFree)
                    {
                        verdict.Violation("e-mailed twice in a fault-free run", $"{row} ×{record.Accepted}");
                    }
                }
            }
            else if (givenUp.Count > 0)
            {
                verdict.Count("e-mails dead-lettered");

                // Only refusals (5xx) spend the budget; an outage (4xx, the server down) must not.
                if ((record?.Refused ?? 0) < settings.MaxAttempts)
                {
                    verdict.Violation(
                        "e-mail given up before its budget was spent",
                        $"{row}: refused {record?.Refused ?? 0} times (5xx), told to try later {record?.TriedLater ?? 0} times, budget {settings.MaxAttempts}; dead letter #{givenUp[0].Id}: {givenUp[0].Error}");
                }
            }
            else
            {
                verdict.Undelivered++;
                verdict.Violation(
                    "out-of-stock e-mail neither sent nor a dead letter",
                    $"{row}; the SMTP server saw it: {(record is null ? "never" : $"refused {record.Refused}, try-later {record.TriedLater}")}");
            }
        }

        foreach (var record in mail.Values.Where(record => !ids.Contains(record.MessageId) && plan.Owns(record.Subject.Replace("Out of stock for ", "", StringComparison.Ordinal))))
        {
            verdict.Violation("e-mail that no committed event explains", $"{record}");
        }
    }

    private static void CheckDeadLetters(ScenarioPlan plan, List<OutboxRow> outbox, IReadOnlyList<DeadLetterRow> deadLetters, CheckSettings settings, Verdict verdict)
    {
        var ids = outbox.Where(row => row.Type != OutOfStock).ToDictionary(row => row.MessageId);
        foreach (var letter in deadLetters.Where(letter => letter.MessageId is not null && ids.ContainsKey(letter.MessageId)))
        {
            verdict.Violation("event given up", $"dead letter #{letter.Id} ({letter.Source}): {letter.Error}; {ids[letter.MessageId!]}");
        }

        // Pub/sub messages the service took but could not apply (it retries an outage of the database, then
        // keeps them as dead letters); none in a fault-free run. A stream entry waits out an outage pending,
        // and the harness sends none the service may refuse: none ever.
        var inbound = deadLetters.Where(letter => letter.Source.StartsWith("redis", StringComparison.Ordinal) && letter.Payload.Contains(plan.Prefix + "-", StringComparison.Ordinal)).ToList();
        verdict.Count("inbound dead letters", inbound.Count);
        foreach (var letter in inbound.Where(letter => settings.FaultFree || letter.Source.StartsWith("redis-stream:", StringComparison.Ordinal)))
        {
            verdict.Violation($"inbound dead letter{(settings.FaultFree ? " in a fault-free run" : " of a stream entry")}", $"#{letter.Id} {letter.Source}: {letter.Error}; {letter.Payload}");
        }

        foreach (var row in outbox.Where(row => row.DispatchedAt is null).Take(5))
        {
            verdict.Violation("still in the outbox after the drain", row.ToString());
        }
    }

    /// <summary>Once the outbox drained, every inbound stream entry was handed to a consumer of the service's group and acknowledged (<c>XPENDING</c> 0).</summary>
    private static void CheckInboundStream(InboundStreamState? state, Verdict verdict)
    {
        if (state is null)
        {
            return;
        }

        verdict.Count("inbound stream pending at the end", state.Pending);
        if (!state.Settled)
        {
            verdict.Violation("inbound stream entries not all acknowledged", $"{RedisMessaging.Inbound}, group {RedisMessaging.ServiceGroup}: {state}");
        }
    }

    /// <summary>GET /allocations/{orderid} (a sample of the scenario's orders) and GET /products/{sku} (every SKU) against the tables.</summary>
    private static async Task CheckReadModelAsync(
        ScenarioPlan plan,
        IReadOnlyList<Operation> operations,
        List<BatchRow> batches,
        IEnumerable<LineRow> lines,
        Dictionary<long, BatchRow> batchById,
        ServiceClient client,
        int seed,
        Verdict verdict)
    {
        var byOrder = lines.ToLookup(line => line.OrderId);
        var random = new Random(seed);
        var orders = operations.Where(operation => operation.Kind == OperationKind.Allocate).Select(operation => operation.OrderId!).Distinct()
            .OrderBy(_ => random.Next()).Take(300).ToList();
        var reads = 0;
        foreach (var order in orders)
        {
            var (name, http) = client.Instances[reads++ % client.Instances.Count];
            using var response = await GetAsync(http, $"/allocations/{Uri.EscapeDataString(order)}", name, verdict);
            if (response is null)
            {
                continue;
            }

            var expected = byOrder[order].Select(line => $"{line.Sku}→{batchById[line.BatchId].Reference}").Order(StringComparer.Ordinal).ToList();
            List<string> actual = [];
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                actual = document.RootElement.EnumerateArray()
                    .Select(item => $"{item.GetProperty("sku").GetString()}→{item.GetProperty("batchref").GetString()}").Order(StringComparer.Ordinal).ToList();
            }
            else if (response.StatusCode != HttpStatusCode.NotFound)
            {
                verdict.Violation("read model unreadable", $"GET /allocations/{order} on {name} answered {(int)response.StatusCode}");
                continue;
            }

            if (!actual.SequenceEqual(expected))
            {
                verdict.Violation("read model differs from the tables", $"GET /allocations/{order} on {name}: [{string.Join(", ", actual)}], tables: [{string.Join(", ", expected)}]");
            }
        }

        var bySku = batches.ToLookup(batch => batch.Sku);
        foreach (var sku in plan.Skus)
        {
            var (name, http) = client.Instances[reads++ % client.Instances.Count];
            using var response = await GetAsync(http, $"/products/{Uri.EscapeDataString(sku)}", name, verdict);
            if (response is null)
            {
                continue;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                verdict.Violation("read model unreadable", $"GET /products/{sku} on {name} answered {(int)response.StatusCode}");
                continue;
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var actual = document.RootElement.GetProperty("batches").EnumerateArray()
                .Select(item => $"{item.GetProperty("ref").GetString()} {item.GetProperty("purchased").GetInt32()}/{item.GetProperty("allocated").GetInt32()}/{item.GetProperty("available").GetInt32()}")
                .Order(StringComparer.Ordinal).ToList();
            var expected = bySku[sku].Select(batch => $"{batch.Reference} {batch.Purchased}/{batch.Allocated}/{batch.Purchased - batch.Allocated}").Order(StringComparer.Ordinal).ToList();
            if (!actual.SequenceEqual(expected))
            {
                verdict.Violation("read model differs from the tables", $"GET /products/{sku} on {name}: [{string.Join(", ", actual)}], tables (purchased/allocated/available): [{string.Join(", ", expected)}]");
            }
        }

        verdict.Count("read model requests", reads);
    }

    private static async Task<HttpResponseMessage?> GetAsync(HttpClient http, string path, string instance, Verdict verdict)
    {
        try
        {
            return await http.GetAsync(path);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            verdict.Violation("read model unreadable", $"GET {path} on {instance}: {exception.GetBaseException().Message}");
            return null;
        }
    }
}
