using PgIg.Synthetic;
using Xunit;
using Xunit.Abstractions;

namespace PgIg.Tests.Synthetic;

public class SyntheticAttributionTests(ITestOutputHelper output)
{
    const double CsvTolerance = 1e-12;
    const double TableTolerance = 1e-9; // the spec's table is printed to 9 decimals

    static SyntheticResults Results => SyntheticFixtures.Results;

    public static TheoryData<string, string, int> AttributionCsvs => new()
    {
        { "IG_signal.csv", "IG", 0 },
        { "IG_distractor.csv", "IG", 1 },
        { "PA_signal.csv", "PA", 0 },
        { "PA_distractor.csv", "PA", 1 },
        { "PGIG_signal.csv", "PGIG", 0 },
        { "PGIG_distractor.csv", "PGIG", 1 },
    };

    [Theory]
    [MemberData(nameof(AttributionCsvs))]
    public void Attributions_match_the_notebook_csvs(string file, string method, int dimension)
    {
        var rows = method switch
        {
            "IG" => Results.IntegratedGradients,
            "PA" => Results.PatternAttribution,
            "PGIG" => Results.PatternGuidedIntegratedGradients,
            _ => throw new ArgumentException(method),
        };
        var expected = SyntheticFixtures.Column(file);
        Assert.Equal(400, expected.Length);
        double error = SyntheticFixtures.MaxAbsError(expected, SyntheticFixtures.Column(rows, dimension));
        output.WriteLine($"{file}: max abs error {error:R}");
        Assert.True(error <= CsvTolerance, $"{file}: max abs error {error:R}");
    }

    [Fact]
    public void Csvs_are_reproduced_bit_for_bit()
    {
        // Stronger than the 1e-12 contract: with NumPy's summation order (pairwise, 8192-element
        // buffer blocks, the B15 outer product) every saved double comes out identical.
        Assert.Equal(SyntheticFixtures.Column("y.csv"), Results.Outputs);
        foreach (var row in AttributionCsvs)
        {
            var (file, method, dimension) = ((string)row[0], (string)row[1], (int)row[2]);
            var rows = method == "IG" ? Results.IntegratedGradients
                : method == "PA" ? Results.PatternAttribution : Results.PatternGuidedIntegratedGradients;
            Assert.Equal(SyntheticFixtures.Column(file), SyntheticFixtures.Column(rows, dimension));
        }
    }

    [Fact]
    public void Network_output_matches_y_csv()
    {
        double error = SyntheticFixtures.MaxAbsError(SyntheticFixtures.Column("y.csv"), Results.Outputs);
        output.WriteLine($"y.csv: max abs error {error:R}");
        Assert.True(error <= CsvTolerance, $"y.csv: max abs error {error:R}");
        // f = z below the plateau and exactly 1 on it.
        var z = SyntheticExperiment.Targets();
        for (int i = 0; i < 300; i++) Assert.Equal(z[i], Results.Outputs[i], 1e-12);
        for (int i = 300; i < 400; i++) Assert.Equal(1.0, Results.Outputs[i]);
    }

    [Fact]
    public void Data_is_signal_plus_distractor()
    {
        var x = SyntheticFixtures.X;
        var signal = NumpyText.LoadTxt(SyntheticFixtures.PathOf("signal.csv"));
        var distractor = NumpyText.LoadTxt(SyntheticFixtures.PathOf("distractor.csv"));
        Assert.Equal(SyntheticExperiment.Signal(SyntheticExperiment.Targets()), signal);
        Assert.Equal(SyntheticExperiment.Distractor(SyntheticFixtures.Column(x, 1)), distractor);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(signal[i][0] + distractor[i][0], x[i][0]);
            Assert.Equal(signal[i][1] + distractor[i][1], x[i][1]);
        }
    }

    [Fact]
    public void PA_starves_exactly_on_the_plateau()
    {
        for (int i = 0; i < 400; i++)
        {
            var pa = Results.PatternAttribution[i];
            if (i >= 300)
            {
                Assert.Equal(0.0, pa[0]);
                Assert.Equal(0.0, pa[1]);
            }
            else if (i != 200) // f(x_200) = z_200 ≈ 2e-15, so PA is tiny there but not zero
            {
                Assert.True(Math.Abs(pa[0]) > 1e-3, $"row {i}: PA signal {pa[0]}");
            }
        }
    }

    [Fact]
    public void IG_attributes_noise_and_PGIG_bypasses_it()
    {
        // Over the whole set: IG's distractor column tracks ε (size ~0.3); PGIG's stays ~100× smaller.
        double igNoise = Results.IntegratedGradients.Max(r => Math.Abs(r[1]));
        double pgigNoise = Results.PatternGuidedIntegratedGradients.Max(r => Math.Abs(r[1]));
        Assert.True(igNoise > 0.5, $"IG distractor max {igNoise}");
        Assert.True(pgigNoise < 0.01, $"PGIG distractor max {pgigNoise}");
        // …and PGIG, unlike PA, does not starve on the plateau.
        for (int i = 300; i < 400; i++) Assert.True(Results.PatternGuidedIntegratedGradients[i][0] > 0.4);
    }

    public static TheoryData<int, double[], double[], double[]> SpotChecks => new()
    {
        { 0, [-1.850985754, -0.149014246], [-2.006592347, 0.006592347], [-1.857086925, -0.000491177] },
        { 150, [-0.424852145, -0.075147855], [-0.501648087, 0.001648087], [-0.426252531, -0.000247700] },
        { 299, [1.178888653, -0.188888653], [0.993263212, -0.003263212], [1.182774474, -0.000622610] },
        { 300, [0.743788482, 0.246211518], [0.0, 0.0], [0.746240138, 0.000811556] },
        { 399, [1.180672447, -0.185672447], [0.0, 0.0], [1.184564148, -0.000612009] },
    };

    [Theory]
    [MemberData(nameof(SpotChecks))]
    public void Spot_checks_from_the_spec(int i, double[] ig, double[] pa, double[] pgig)
    {
        for (int d = 0; d < 2; d++)
        {
            Assert.Equal(ig[d], Results.IntegratedGradients[i][d], TableTolerance);
            Assert.Equal(pa[d], Results.PatternAttribution[i][d], TableTolerance);
            Assert.Equal(pgig[d], Results.PatternGuidedIntegratedGradients[i][d], TableTolerance);
        }
    }

    [Fact]
    public void Spot_check_inputs_targets_and_outputs()
    {
        var x = SyntheticFixtures.X;
        var z = SyntheticExperiment.Targets();
        Assert.Equal(-1.850985754, x[0][0], TableTolerance);
        Assert.Equal(0.149014246, x[0][1], TableTolerance);
        Assert.Equal(2.361344894, x[399][0], TableTolerance);
        Assert.Equal(0.371344894, x[399][1], TableTolerance);
        Assert.Equal(0.99, z[299], TableTolerance);
        Assert.Equal(-2.0, Results.Outputs[0], TableTolerance);
        Assert.Equal(1.0, Results.Outputs[300]);
        Assert.Equal(1.0, Results.Outputs[399]);
    }

    [Theory]
    [InlineData(0, -2.0)]
    [InlineData(101, -0.9899999999999991)]
    [InlineData(202, 0.020000000000001794)]
    [InlineData(303, 0.9991000000000028)]
    [InlineData(399, 0.995000000000002)]
    public void IG_completeness_check_prints_the_same_doubles(int i, double printedSum)
    {
        // Cell 17 prints np.sum(saliencies[idx]) with full repr precision.
        double sum = NumpyOrder.Sum(Results.IntegratedGradients[i]);
        Assert.Equal(printedSum, sum);
    }
}
