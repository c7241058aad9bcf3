using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>
/// "Every request gets an answer, and a connection the service will not keep says so": HTTP/1.1 keep-alive
/// against real Kestrel, with a client that holds one connection at a time and counts the ones it opens.
/// </summary>
[Category("E2E")]
public class ConnectionTests
{
    private ServiceProcess _service = null!;
    private TestDatabase _database = null!;

    [OneTimeSetUp]
    public async Task StartService()
    {
        _database = new TestDatabase();
        _service = await ServiceProcess.StartAsync(ServiceProcess.Standalone(_database));
        using var client = _service.CreateClient();
        await (await client.AddBatchAsync("connections", "CONNECTIONS", 1000)).ShouldBeCreatedAsync();
    }

    [OneTimeTearDown]
    public async Task StopService()
    {
        await _service.DisposeAsync();
        _database.Dispose();
    }

    // Within the service's drain ceiling (1 MiB), a body is read and dropped and the connection kept,
    // whether its length is declared or it comes chunked; a client waiting for 100 Continue has sent
    // nothing yet, so its connection is closed, and the 413 says so.
    [TestCase(1_000_000, true, false, 100, TestName = "AfterEachOversizedBodyOfDeclaredLengthTheNextRequestIsAnswered")]
    [TestCase(1_000_000, false, false, 100, TestName = "AfterEachOversizedChunkedBodyTheNextRequestIsAnswered")]
    [TestCase(1_000_000, true, true, 20, TestName = "AfterEachOversizedBodyAwaitingContinueTheNextRequestIsAnswered")]
    public async Task AfterEachOversizedBodyTheNextRequestIsAnswered(int bytes, bool declaredLength, bool expectContinue, int rounds)
    {
        var run = await SendOversizedThenValidAsync(bytes, declaredLength, expectContinue, rounds);

        run.Unanswered.ShouldBeEmpty();
        run.Allocated.ShouldBe(rounds);
        run.TooLarge.ShouldBe(rounds);
        run.Connections.ShouldBe(1 + run.ClosesAnnounced, "every connection the service closed must have said so on its last answer");
    }

    // Past the ceiling the service closes the connection rather than read on. A client still sending then
    // may lose the 413 to the reset its own TCP stack meets, but never the request after it, and no
    // connection ends without having said so.
    [TestCase(true, TestName = "AfterEachBodyTooLargeToDrainTheNextRequestIsAnswered")]
    [TestCase(false, TestName = "AfterEachChunkedBodyTooLargeToDrainTheNextRequestIsAnswered")]
    public async Task AfterEachBodyTooLargeToDrainTheNextRequestIsAnswered(bool declaredLength)
    {
        var run = await SendOversizedThenValidAsync(2 * 1024 * 1024, declaredLength, expectContinue: false, rounds: 20);

        run.Unanswered.ShouldAllBe(request => request.StartsWith("oversized", StringComparison.Ordinal));
        run.Allocated.ShouldBe(20);
        run.Connections.ShouldBe(1 + run.ClosesAnnounced + run.Unanswered.Count, "every connection the service closed must have said so on its last answer");
    }

    [Test]
    public async Task AnOversizedBodyWithinTheDrainCeilingKeepsTheConnection()
    {
        var connections = 0;
        using var client = OneConnectionAtATime(() => Interlocked.Increment(ref connections));
        var oversized = Encoding.UTF8.GetBytes($$"""{"orderid": "{{new string('o', 500_000)}}", "sku": "CONNECTIONS", "qty": 1}""");

        using var refused = await client.PostAsync("/allocate", Json(oversized, declaredLength: true));
        using var valid = await client.AllocateAsync("kept-connection", "CONNECTIONS", 1);

        refused.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        refused.Headers.ConnectionClose.ShouldNotBe(true);
        valid.StatusCode.ShouldBe(HttpStatusCode.Created);
        connections.ShouldBe(1);
    }

    private async Task<Run> SendOversizedThenValidAsync(int bytes, bool declaredLength, bool expectContinue, int rounds)
    {
        var run = new Run();
        using var client = OneConnectionAtATime(() => run.Connections++);
        var oversized = Encoding.UTF8.GetBytes($$"""{"orderid": "{{new string('o', bytes - 45)}}", "sku": "CONNECTIONS", "qty": 1}""");
        for (var round = 0; round < rounds; round++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/allocate") { Content = Json(oversized, declaredLength) };
                request.Headers.ExpectContinue = expectContinue;
                using var refused = await client.SendAsync(request);
                run.TooLarge += refused.StatusCode == HttpStatusCode.RequestEntityTooLarge ? 1 : 0;
                run.ClosesAnnounced += refused.Headers.ConnectionClose == true ? 1 : 0;
            }
            catch (HttpRequestException exception)
            {
                run.Unanswered.Add($"oversized body {round}: {exception.Message}");
            }

            try
            {
                using var valid = await client.AllocateAsync($"{TestContext.CurrentContext.Test.Name}-{round}", "CONNECTIONS", 1);
                run.Allocated += valid.StatusCode == HttpStatusCode.Created ? 1 : 0;
            }
            catch (HttpRequestException exception)
            {
                run.Unanswered.Add($"allocation {round}: {exception.Message}");
            }
        }

        return run;
    }

    private HttpClient OneConnectionAtATime(Action opened) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1,
        ConnectCallback = async (context, cancellationToken) =>
        {
            opened();
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    {
        BaseAddress = _service.Address,
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static HttpContent Json(byte[] body, bool declaredLength)
    {
        HttpContent content = declaredLength ? new ByteArrayContent(body) : new StreamContent(new UnmeasuredStream(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private sealed class Run
    {
        public int Connections { get; set; }

        public int TooLarge { get; set; }

        public int ClosesAnnounced { get; set; }

        public int Allocated { get; set; }

        public List<string> Unanswered { get; } = [];
    }

    /// <summary>A body the client cannot measure, so it is sent chunked, without a Content-Length.</summary>
    private sealed class UnmeasuredStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
