using Allocation.Application.Ports;
using Dapper;

namespace Allocation.Infrastructure.Persistence;

/// <summary>Read routes query committed data on pooled reader connections, never the writer.</summary>
internal sealed class ReadModel(SqliteDatabase database) : IReadModel
{
    public ValueTask<IReadOnlyList<OrderAllocation>> AllocationsForOrderAsync(string orderId, CancellationToken cancellationToken)
    {
        using var connection = database.OpenReader();
        var rows = connection.Query<OrderAllocation>(
            "SELECT sku AS Sku, batchref AS BatchRef FROM allocations_view WHERE orderid = @orderId ORDER BY sku",
            new { orderId });
        return ValueTask.FromResult<IReadOnlyList<OrderAllocation>>(rows.AsList());
    }
}
