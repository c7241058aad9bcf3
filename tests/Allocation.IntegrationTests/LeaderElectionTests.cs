using System.Data.Common;
using Allocation.Application.Ports;
using Allocation.Infrastructure.Persistence;
using Allocation.IntegrationTests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Allocation.IntegrationTests;

/// <summary>
/// The work of the lead (the outbox dispatcher, the pub/sub consumer) when the database goes away under
/// it: a PostgreSQL restart breaks the lead's connection and the work's at once, and the work then fails
/// with the database's error rather than a cancellation.
/// </summary>
public class LeaderElectionTests
{
    [Test]
    public async Task WorkThatFailsAsTheLeadIsLostStartsAgainOnceLeadingAgain()
    {
        var (runs, database) = await FailFirstRunAsync(async (database, leading) =>
        {
            database.LoseLease();
            await Eventually.Until(() => leading.IsCancellationRequested, "the lead is lost");
        });

        runs.ShouldBe(2);
        database.Leases.ShouldBeGreaterThanOrEqualTo(2);
    }

    [Test]
    public async Task WorkThatFailsWhileLeadingStartsAgain()
    {
        var (runs, database) = await FailFirstRunAsync((_, _) => Task.CompletedTask);

        runs.ShouldBe(2);
        database.Leases.ShouldBe(1);
    }

    /// <summary>
    /// Leads with work whose first run does <paramref name="beforeFailing"/> and then fails with the
    /// database's error, and whose next run waits; answers how many runs there were once the next one began.
    /// </summary>
    private static async Task<(int Runs, LeasingDatabase Database)> FailFirstRunAsync(Func<LeasingDatabase, CancellationToken, Task> beforeFailing)
    {
        var database = new LeasingDatabase();
        var leader = new LeaderElection(database, NullLogger<LeaderElection>.Instance);
        using var stopping = new CancellationTokenSource();
        await leader.StartAsync(CancellationToken.None);
        var runs = 0;
        var ranAgain = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var loop = leader.WhileLeadingAsync(
            async leading =>
            {
                if (Interlocked.Increment(ref runs) == 1)
                {
                    await beforeFailing(database, leading);
                    throw new UnavailableException("The database cannot take writes: 57P01: terminating connection due to administrator command");
                }

                ranAgain.TrySetResult();
                await Task.Delay(Timeout.Infinite, leading);
            },
            stopping.Token);
        var again = await Task.WhenAny(ranAgain.Task, loop, Task.Delay(TimeSpan.FromSeconds(20)));
        await stopping.CancelAsync();
        await leader.StopAsync(CancellationToken.None);

        again.ShouldBe(ranAgain.Task);
        await loop;
        return (runs, database);
    }

    /// <summary>Grants the lead whenever asked; the test ends the current lease as a broken connection would.</summary>
    private sealed class LeasingDatabase : ISqlDatabase
    {
        private Lease? _current;

        public int Leases { get; private set; }

        public string Description => "a database that grants every lead";

        public string BeginWrite(bool durable) => throw new NotSupportedException();

        public string BeginWriteApart(bool durable) => throw new NotSupportedException();

        public bool WritesAtGroupEnd => throw new NotSupportedException();

        public void LoseLease() => _current?.Lose();

        public ValueTask<ILeadership?> TryLeadAsync(CancellationToken cancellationToken)
        {
            Leases++;
            _current = new Lease();
            return ValueTask.FromResult<ILeadership?>(_current);
        }

        public string IsAnyOf(string parameter) => throw new NotSupportedException();

        public object ListOf<T>(IEnumerable<T> values) => throw new NotSupportedException();

        public DbConnection OpenWriter() => throw new NotSupportedException();

        public ValueTask<DbConnection> OpenReaderAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public DbConnection OpenReader() => throw new NotSupportedException();

        public DbConnection OpenKeptReader() => throw new NotSupportedException();

        public bool ManyWriters => false;

        public bool LockProduct(DbConnection connection, string sku, bool wait) => throw new NotSupportedException();

        public string? LockProductsStatement(string parameter) => throw new NotSupportedException();

        public void WriteGroup(DbConnection connection, IReadOnlyList<ChangeSet> changes, string commit) => throw new NotSupportedException();

        public string CommitStatement(bool wroteOutbox) => throw new NotSupportedException();

        public Exception Translate(DbException exception) => exception;

        public void Migrate() => throw new NotSupportedException();
    }

    private sealed class Lease : ILeadership
    {
        private readonly CancellationTokenSource _lost = new();

        public CancellationToken Lost => _lost.Token;

        public void Lose() => _lost.Cancel();

        public ValueTask DisposeAsync()
        {
            _lost.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
