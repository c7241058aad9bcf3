using System.Text.Json;

namespace Allocation.E2ETests.Support;

public static class JsonFields
{
    /// <summary>A string field of a JSON object, or null when it is absent or not a string.</summary>
    public static string? Text(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
