using PgIg.Synthetic;
using Xunit;

namespace PgIg.Tests.Synthetic;

/// <summary>The CSVs the notebook saved (fixtures/synthetic), read once per test run.</summary>
static class SyntheticFixtures
{
    static readonly Lazy<double[][]> x = new(() => NumpyText.LoadTxt(PathOf("X.csv")));
    static readonly Lazy<SyntheticResults> results = new(() => SyntheticExperiment.Run(X));

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "synthetic", file);

    public static double[][] X => x.Value;

    /// <summary>The notebook run (with the B15 quirk) on X.csv, shared by the CSV comparisons.</summary>
    public static SyntheticResults Results => results.Value;

    public static double[] Column(string file) => NumpyText.LoadIndexedColumn(PathOf(file));

    public static double[] Column(double[][] rows, int column) => [.. rows.Select(r => r[column])];

    public static double MaxAbsError(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        double max = 0;
        for (int i = 0; i < expected.Count; i++) max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
        return max;
    }
}
