namespace Allocation.E2ETests.Operations;

/// <summary>Waits for something the service does in the background, with a generous timeout.</summary>
internal static class Polling
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Probes until <paramref name="done"/> holds and returns that value; fails with the last value seen.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
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
                Assert.Fail($"Timed out waiting until {what}; last seen: {value}");
            }

            await Task.Delay(50);
        }
    }
}
