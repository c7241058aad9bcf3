using System.Globalization;

namespace Allocation.E2ETests.Operations;

/// <summary>Reads samples out of a Prometheus text exposition.</summary>
internal static class PrometheusText
{
    /// <summary>
    /// The sum of the samples named <paramref name="name"/> whose labels include every one given; 0 when
    /// there is none (a counter that never moved is not exported).
    /// </summary>
    public static double Sample(string exposition, string name, params (string Name, string Value)[] labels) =>
        exposition.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(Parse)
            .Where(sample => sample.Name == name && labels.All(label => sample.Labels.Contains($"{label.Name}=\"{label.Value}\"")))
            .Sum(sample => sample.Value);

    private static (string Name, string Labels, double Value) Parse(string line)
    {
        var valueStart = line.LastIndexOf(' ');
        var series = line[..valueStart];
        var value = double.Parse(line[(valueStart + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
        var brace = series.IndexOf('{', StringComparison.Ordinal);
        return brace < 0 ? (series, "", value) : (series[..brace], series[brace..], value);
    }
}
