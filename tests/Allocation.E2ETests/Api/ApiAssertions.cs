using System.Net;
using System.Text.Json;

namespace Allocation.E2ETests.Api;

/// <summary>What every answer of the contract looks like on the wire.</summary>
internal static class ApiAssertions
{
    /// <summary>
    /// Asserts the contract's error shape: the status, <c>application/problem+json</c>, and a body with
    /// <c>status</c>, <c>title</c>, <c>detail</c> and the top-level <c>message</c>; returns the body.
    /// </summary>
    public static async Task<JsonElement> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe((int)status, body);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", body);

        var problem = JsonDocument.Parse(body).RootElement.Clone();
        problem.ValueKind.ShouldBe(JsonValueKind.Object, body);
        problem.GetProperty("status").GetInt32().ShouldBe((int)status, body);
        problem.GetProperty("title").GetString().ShouldNotBeNullOrWhiteSpace(body);
        problem.GetProperty("detail").GetString().ShouldNotBeNullOrWhiteSpace(body);
        problem.Message().ShouldNotBeNullOrWhiteSpace(body);
        return problem;
    }

    /// <summary>Asserts a 400 whose <c>errors</c> name exactly the given fields; returns the body.</summary>
    public static async Task<JsonElement> ShouldBeInvalidAsync(this HttpResponseMessage response, params string[] fields)
    {
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        errors.EnumerateObject().Select(error => error.Name).ShouldBe(fields, ignoreOrder: true, problem.GetRawText());
        foreach (var error in errors.EnumerateObject())
        {
            error.Value.EnumerateArray().ShouldNotBeEmpty(problem.GetRawText());
        }

        return problem;
    }

    /// <summary>Asserts a 201 from <c>/allocate</c> and returns the batch reference it names.</summary>
    public static async Task<string> ShouldBeAllocatedAsync(this HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body);
        var json = JsonDocument.Parse(body).RootElement;
        json.EnumerateObject().Select(property => property.Name).ShouldBe(["batchref"], body);
        return json.GetProperty("batchref").GetString().ShouldNotBeNull();
    }

    /// <summary>Asserts a 201 from <c>/add_batch</c>.</summary>
    public static async Task ShouldBeCreatedAsync(this HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body);
    }

    /// <summary>The top-level <c>message</c> of a problem.</summary>
    public static string Message(this JsonElement problem) => problem.GetProperty("message").GetString() ?? "";
}
