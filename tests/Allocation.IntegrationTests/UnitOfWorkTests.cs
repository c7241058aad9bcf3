using System.Text.Json;
using Allocation.Application.Commands;
using Allocation.Domain;
using Allocation.Infrastructure.Persistence;
using Allocation.IntegrationTests.Support;
using Dapper;
using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Allocation.IntegrationTests;

[TestFixtureSource(typeof(Providers), nameof(Providers.All))]
public class UnitOfWorkTests(string provider) : ServiceFixture(provider)
{
    private const string Sku = "RED-CHAIR";

    [Test]
    public async Task CommittedWorkIsStored()
    {
        await Instance.InUnitAsync(async uow =>
        {
            var product = new Product(Sku);
            product.AddBatch("batch-1", 10, null);
            uow.Products.Add(product);
            await uow.CommitAsync(default);
        });

        Database.Query<(string, int)>("SELECT sku, version_number FROM products").ShouldBe([(Sku, 1)]);
        Database.Query<(string, int)>("SELECT reference, purchased_quantity FROM batches").ShouldBe([("batch-1", 10)]);
    }

    [Test]
    public async Task AWriteThatNeedNotBeDurableCommitsWithoutWaitingForTheDiskAndEveryOtherWaits()
    {
        var writer = Instance.Services.GetRequiredService<Writer>();
        // What the session would do at COMMIT: SQLite's synchronous (1 NORMAL, 2 FULL), PostgreSQL's synchronous_commit.
        var setting = Provider == Providers.Postgres ? "SHOW synchronous_commit" : "PRAGMA synchronous";
        async Task<string> CommitWaitsFor(bool durable)
        {
            string? seen = null;
            await writer.WriteAsync(connection => seen = connection.ExecuteScalar<object>(setting)!.ToString(), default, durable);
            return seen!;
        }

        var (lazy, durable) = Provider == Providers.Postgres ? ("off", "on") : ("1", "2");
        (await CommitWaitsFor(durable: false)).ShouldBe(lazy);
        (await CommitWaitsFor(durable: true)).ShouldBe(durable);
        (await CommitWaitsFor(durable: false)).ShouldBe(lazy);

        // On the writer, in one group with a durable unit, a lazy one waits for the disk too; PostgreSQL
        // runs such writes in transactions of their own, each with its own setting.
        var gate = new TaskCompletionSource();
        var blocked = writer.WriteAsync(_ => gate.Task.Wait(), default);
        string? grouped = null;
        var lazyWrite = writer.WriteAsync(connection => grouped = connection.ExecuteScalar<object>(setting)!.ToString(), default, durable: false);
        var durableWrite = writer.WriteAsync(_ => { }, default);
        gate.SetResult();
        await Task.WhenAll(blocked, lazyWrite, durableWrite);
        grouped.ShouldBe(Provider == Providers.Postgres ? lazy : durable);
    }

    [Test]
    public async Task TheWriteAheadLogStartsOverOnceItPassesItsLimit()
    {
        if (Provider != Providers.Sqlite)
        {
            Assert.Ignore("PostgreSQL checkpoints on its own.");
        }

        // No background checkpoints here: the writer alone keeps the log near its limit.
        await using var instance = CreateInstance(new Dictionary<string, string?> { ["Sqlite:WalLimitMb"] = "1" });
        var writer = instance.Services.GetRequiredService<Writer>();
        var log = new FileInfo(((Allocation.Infrastructure.Persistence.Sqlite.SqliteDatabase)instance.Services.GetRequiredService<ISqlDatabase>()).FilePath + "-wal");
        await writer.WriteAsync(connection => connection.Execute("CREATE TABLE filler (data BLOB NOT NULL)"), default);
        for (var i = 0; i < 8; i++)
        {
            await writer.WriteAsync(connection => connection.Execute("INSERT INTO filler (data) VALUES (randomblob(500000))"), default);
        }

        await writer.WriteAsync(connection => connection.Execute("INSERT INTO filler (data) VALUES (x'00')"), default);

        log.Refresh();
        log.Length.ShouldBeLessThan(2 * 1024 * 1024, "4 MB written, a log of at most its limit and the last writes");
        Database.Scalar<long>("SELECT count(*) FROM filler").ShouldBe(9);
    }

    [Test]
    public async Task ACommandThatFailsWhileSavingLeavesNothingBehind()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 10));
        RefuseOutboxWrites();

        await Should.ThrowAsync<DbException>(() => Instance.SendAsync(new Allocate("order-1", Sku, 3)));

        Database.Allocations().ShouldBeEmpty();
        Database.AllocatedQuantityOf("batch-1").ShouldBe(0);
        Database.VersionOf(Sku).ShouldBe(1);
    }

    [Test]
    public async Task TheWriterTakesNewWorkAfterACommandFailedWhileSaving()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 10));
        RefuseOutboxWrites();
        await Should.ThrowAsync<DbException>(() => Instance.SendAsync(new Allocate("order-1", Sku, 3)));
        Database.AllowInserts("refuse_outbox", "outbox");

        var batch = await Instance.SendAsync(new Allocate("order-2", Sku, 3)).WaitAsync(Eventually.Limit);

        batch.ShouldBe("batch-1");
        Database.Allocations().ShouldBe([("order-2", "batch-1")]);
    }

    [Test]
    public async Task AGroupWhoseConnectionTheServerEndsWhileWritingRunsAgainOnANewConnection()
    {
        if (Provider != Providers.Postgres)
        {
            Assert.Ignore("Only PostgreSQL writes a group's changes together at its end, on a connection a server restart can end.");
        }

        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 10));

        // As a restart does (pg_ctl stop -m fast): the server ends the writer's session in the middle of the group's write, once.
        Database.Execute("""
            CREATE SEQUENCE end_session_once;
            CREATE FUNCTION end_session_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('end_session_once') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER end_session_once BEFORE UPDATE ON batches FOR EACH ROW EXECUTE FUNCTION end_session_once();
            """);

        var batch = await Instance.SendAsync(new Allocate("order-1", Sku, 3)).WaitAsync(Eventually.Limit);

        batch.ShouldBe("batch-1");
        Database.Query<long>("SELECT last_value FROM end_session_once").ShouldBe([2L], "the write ran twice: ended, then again on a new connection");
        Database.Allocations().ShouldBe([("order-1", "batch-1")]);
        Database.AllocatedQuantityOf("batch-1").ShouldBe(3);
    }

    [Test]
    public async Task AHandlerThatThrowsBeforeCommittingLeavesNothingBehind()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 10));

        await Should.ThrowAsync<InvalidOperationException>(() => Instance.InUnitAsync(async uow =>
        {
            var product = await uow.Products.GetForOrderLineAsync(Sku, "order-1", default);
            product!.Allocate(new OrderLine("order-1", Sku, 3));
            uow.Connection.Execute("UPDATE batches SET purchased_quantity = 0");
            throw new InvalidOperationException("The handler failed half way.");
        }));

        Database.VersionOf(Sku).ShouldBe(1);
        Database.Query<(int, int)>("SELECT purchased_quantity, allocated_quantity FROM batches").ShouldBe([(10, 0)]);
        Database.Allocations().ShouldBeEmpty();
    }

    [Test]
    public async Task WorkLeftUncommittedIsRolledBackAndTheWriterGoesOnWithOthers()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 10));

        await Instance.InUnitAsync(async uow =>
        {
            var product = await uow.Products.GetForOrderLineAsync(Sku, "order-1", default);
            product!.Allocate(new OrderLine("order-1", Sku, 3));
            uow.Connection.Execute("UPDATE batches SET purchased_quantity = 0");
        });
        var other = await Instance.SendAsync(new Allocate("order-2", Sku, 4)).WaitAsync(Eventually.Limit);

        other.ShouldBe("batch-1");
        Database.Allocations().ShouldBe([("order-2", "batch-1")]);
        Database.Query<(int, int)>("SELECT purchased_quantity, allocated_quantity FROM batches").ShouldBe([(10, 4)]);
    }

    [Test]
    public async Task AFaultThatIsNotTheDatabasesFailsOnlyItsGroupAndLaterUnitsCommit()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 10));

        // Closing the writer's connection under the writer makes its next statement throw
        // InvalidOperationException, which SQLite never throws: the kind of fault that used to end the loop.
        await Should.ThrowAsync<InvalidOperationException>(() => Instance.InUnitAsync(uow =>
        {
            uow.Connection.Close();
            return Task.CompletedTask;
        }));
        var batches = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Instance.SendAsync(new Allocate($"order-{i}", Sku, 1)))).WaitAsync(Eventually.Limit);

        batches.ShouldAllBe(batch => batch == "batch-1");
        Database.AllocatedQuantityOf("batch-1").ShouldBe(10);
        Instance.Logs.Entries.ShouldContain(entry => entry.Level == LogLevel.Error && entry.Message.Contains("The writer failed while running a group", StringComparison.Ordinal));
    }

    [Test]
    public async Task ChangesToSeveralProductsInOneUnitAreKeptOrDiscardedTogether()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 10));
        await Instance.SendAsync(new CreateBatch("batch-2", "BLUE-VASE", 10));
        Database.RefuseInserts("refuse_vases", "allocations", "NEW.sku = 'BLUE-VASE'");

        await Should.ThrowAsync<DbException>(() => Instance.InUnitAsync(async uow =>
        {
            (await uow.Products.GetForOrderLineAsync(Sku, "order-1", default))!.Allocate(new OrderLine("order-1", Sku, 1));
            (await uow.Products.GetForOrderLineAsync("BLUE-VASE", "order-1", default))!.Allocate(new OrderLine("order-1", "BLUE-VASE", 1));
            await uow.CommitAsync(default);
        }));

        Database.Allocations().ShouldBeEmpty();
        Database.VersionOf(Sku).ShouldBe(1);
        Database.Outbox().ShouldBeEmpty();
    }

    [Test]
    public async Task AUnitThatRollsBackDoesNotUndoTheCommittedUnitsOfItsCommitGroup()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 100));
        Database.RefuseInserts("refuse_doomed", "allocations", "NEW.orderid LIKE 'doomed-%'");
        var orders = Enumerable.Range(0, 30).Select(i => i % 3 == 0 ? $"doomed-{i}" : $"order-{i}").ToList();

        var outcomes = await Task.WhenAll(orders.Select(orderId => Task.Run(async () =>
        {
            try
            {
                return (orderId, Stored: await Instance.SendAsync(new Allocate(orderId, Sku, 1)) == "batch-1");
            }
            catch (DbException)
            {
                return (orderId, Stored: false);
            }
        })));

        var succeeded = orders.Where(orderId => orderId.StartsWith("order-", StringComparison.Ordinal)).ToList();
        outcomes.Where(outcome => outcome.Stored).Select(outcome => outcome.orderId).ShouldBe(succeeded, ignoreOrder: true);
        Database.Allocations().Select(allocation => allocation.OrderId).ShouldBe(succeeded, ignoreOrder: true);
        Database.AllocatedQuantityOf("batch-1").ShouldBe(succeeded.Count);
        Database.VersionOf(Sku).ShouldBe(1 + succeeded.Count);
        Database.Outbox().Select(row => JsonDocument.Parse(row.Payload).RootElement.GetProperty("orderId").GetString())
            .ShouldBe(succeeded, ignoreOrder: true);
    }

    [Test]
    public async Task ConcurrentAllocationsAgainstOneSkuAreAllStored()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 100));
        var orders = Enumerable.Range(0, 50).Select(i => $"order-{i}").ToList();

        var batches = await Task.WhenAll(orders.Select(orderId => Task.Run(() => Instance.SendAsync(new Allocate(orderId, Sku, 1)))));

        batches.ShouldAllBe(batch => batch == "batch-1");
        Database.Allocations().Select(allocation => allocation.OrderId).ShouldBe(orders, ignoreOrder: true);
        Database.AllocatedQuantityOf("batch-1").ShouldBe(orders.Count);
        Database.VersionOf(Sku).ShouldBe(1 + orders.Count);
        Database.Outbox().Count.ShouldBe(orders.Count);
    }

    [Test]
    public async Task AChangeIsDurableOnceSendReturns()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", Sku, 100));
        var orders = Enumerable.Range(0, 20).Select(i => $"order-{i}").ToList();

        var seenRightAfterwards = await Task.WhenAll(orders.Select(orderId => Task.Run(async () =>
        {
            await Instance.SendAsync(new Allocate(orderId, Sku, 1));
            using var connection = Database.OpenFresh();
            return connection.ExecuteScalar<int>("SELECT count(*) FROM allocations WHERE orderid = @orderId", new { orderId });
        })));

        seenRightAfterwards.ShouldAllBe(count => count == 1);
    }

    [Test]
    public void MarkingEntriesSentReadsOnlyThoseEntriesHoweverMuchTheOutboxGrewSinceTheMarkWasFirstPlanned()
    {
        if (Provider != Providers.Postgres)
        {
            Assert.Ignore("SQLite plans a statement when it is prepared and takes the primary key for these whatever the table's size.");
        }

        // The writes apart from the writer, as Writer.WriteAsync runs them, on one connection so that the
        // statement stays prepared on it.
        var database = Instance.Services.GetRequiredService<ISqlDatabase>();
        var store = new OutboxStore(database);
        using var connection = database.OpenReader();
        void Add(int entries) => connection.Execute(
            "INSERT INTO outbox (message_id, type, payload, created_at) SELECT gen_random_uuid()::text, 'Allocated', '{}', 0 FROM generate_series(1, @entries)",
            new { entries });
        long FullScansWhileMarking(IReadOnlyCollection<long> ids)
        {
            // The server's counts of this session not yet reported, which include this transaction's.
            long Scans() => connection.QuerySingle<long>("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'outbox'");
            connection.Execute(database.BeginWriteApart(durable: false));
            var before = Scans();
            store.MarkDispatched(connection, ids, now: 1);
            var scans = Scans() - before;
            connection.Execute("COMMIT");
            return scans;
        }

        // A new outbox, marked often enough that the server would keep one plan for every later mark.
        Add(30);
        var first = connection.Query<long>("SELECT id FROM outbox ORDER BY id").ToList();
        for (var i = 0; i < 10; i++)
        {
            FullScansWhileMarking(first);
        }

        Add(50_000);
        FullScansWhileMarking([first[0]]).ShouldBe(0);
    }

    private void RefuseOutboxWrites() =>
        Database.RefuseInserts("refuse_outbox", "outbox", "true");
}
