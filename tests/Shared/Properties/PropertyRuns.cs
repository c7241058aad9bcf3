using System.Text.RegularExpressions;
using CsCheck;

namespace Allocation.Testing.Properties;

/// <summary>
/// Runs a property with CsCheck. Each property has a count of cases that keeps <c>dotnet test</c> quick;
/// setting CsCheck's own <c>CsCheck_Iter</c> (or <c>CsCheck_Time</c>, in seconds) runs every property that
/// much instead, and <c>CsCheck_Seed</c> replays a reported failure.
/// </summary>
public static partial class PropertyRuns
{
    /// <summary>How long a failure goes on shrinking after the sampling that found it.</summary>
    private const int ShrinkSeconds = 10;

    /// <returns><paramref name="inTestRun"/>, or -1 (CsCheck's own setting) when the environment sets one.</returns>
    public static int Iterations(int inTestRun) =>
        IsSet("CsCheck_Iter") || IsSet("CsCheck_Time") ? -1 : inTestRun;

    /// <summary>
    /// Samples <paramref name="cases"/> times. CsCheck shrinks a failure with the cases it has left, which
    /// is few when the failure comes early; so a failure goes on shrinking from its seed for a few
    /// seconds, and the smallest failing case is the one reported.
    /// </summary>
    public static void Check<T>(this Gen<T> gen, Action<T> assert, int cases, Func<T, string> print, Action<string> writeLine)
    {
        try
        {
            gen.Sample(assert, writeLine, iter: Iterations(cases), print: print);
        }
        catch (CsCheckException failure) when (SeedOf(failure) is { } seed)
        {
            gen.Sample(assert, seed: seed, time: ShrinkSeconds, print: print);
            throw;
        }
    }

    /// <inheritdoc cref="Check{T}(Gen{T}, Action{T}, int, Func{T, string}, Action{string})"/>
    /// <param name="threads">Cases run at once; 1 for a property on one shared database.</param>
    public static async Task CheckAsync<T>(this Gen<T> gen, Func<T, Task> assert, int cases, Func<T, string> print, Action<string> writeLine, int threads = -1)
    {
        try
        {
            await gen.SampleAsync(assert, writeLine, iter: Iterations(cases), threads: threads, print: print);
        }
        catch (CsCheckException failure) when (SeedOf(failure) is { } seed)
        {
            await gen.SampleAsync(assert, seed: seed, time: ShrinkSeconds, threads: threads, print: print);
            throw;
        }
    }

    private static string? SeedOf(CsCheckException failure) => Seed().Match(failure.Message) is { Success: true } match ? match.Groups[1].Value : null;

    private static bool IsSet(string variable) => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(variable));

    [GeneratedRegex("""Set seed: "([^"]+)" """)]
    private static partial Regex Seed();
}
