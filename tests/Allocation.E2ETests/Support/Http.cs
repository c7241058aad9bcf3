using System.Net.Http.Json;
using System.Text.Json;

namespace Allocation.E2ETests.Support;

/// <summary>The contract's calls, for readable tests.</summary>
public static class Http
{
    public static Task<HttpResponseMessage> AddBatchAsync(this HttpClient client, string reference, string sku, int qty, string? eta = null) =>
        client.PostAsJsonAsync("/add_batch", new Dictionary<string, object?> { ["ref"] = reference, ["sku"] = sku, ["qty"] = qty, ["eta"] = eta });

    public static Task<HttpResponseMessage> AllocateAsync(this HttpClient client, string orderId, string sku, int qty) =>
        client.PostAsJsonAsync("/allocate", new Dictionary<string, object?> { ["orderid"] = orderId, ["sku"] = sku, ["qty"] = qty });

    public static Task<HttpResponseMessage> DeallocateAsync(this HttpClient client, string orderId, string sku) =>
        client.PostAsJsonAsync("/deallocate", new Dictionary<string, object?> { ["orderid"] = orderId, ["sku"] = sku });

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    /// <summary>The status (Healthy, Unhealthy) of one check of <c>/health/ready</c>, whatever the others say.</summary>
    public static async Task<string?> ReadinessOfAsync(this HttpClient client, string check)
    {
        using var response = await client.GetAsync("/health/ready");
        return (await response.JsonAsync()).GetProperty("checks").GetProperty(check).GetProperty("status").GetString();
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
}
