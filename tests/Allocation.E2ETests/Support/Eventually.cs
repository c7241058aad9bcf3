using System.Net;

namespace Allocation.E2ETests.Support;

/// <summary>Waiting, with a generous deadline, for an effect the service produces in the background.</summary>
public static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="probe"/> until its value satisfies <paramref name="done"/>.</summary>
    /// <exception cref="TimeoutException">It did not; the message names what was awaited and the last value.</exception>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, string awaited, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for {awaited}; last seen: {value}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits until GET /allocations/{orderid} shows the line of <paramref name="sku"/> in <paramref name="batchRef"/>.</summary>
    public static Task<string?> AllocatedTo(this HttpClient client, string orderId, string sku, string batchRef) =>
        Until(() => client.BatchOfAsync(orderId, sku), batch => batch == batchRef, $"order {orderId} to be allocated to {batchRef}");

    /// <summary>The batch holding the order's line of <paramref name="sku"/>, or null when there is none.</summary>
    public static async Task<string?> BatchOfAsync(this HttpClient client, string orderId, string sku)
    {
        using var response = await client.GetAsync(new Uri($"/allocations/{Uri.EscapeDataString(orderId)}", UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return (await response.JsonAsync()).EnumerateArray()
            .Where(line => line.Text("sku") == sku)
            .Select(line => line.Text("batchref"))
            .FirstOrDefault();
    }
}
