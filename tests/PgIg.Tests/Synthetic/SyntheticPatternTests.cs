using PgIg.Synthetic;
using Xunit;

namespace PgIg.Tests.Synthetic;

public class SyntheticPatternTests
{
    const double PrintedDigits = 1e-8; // the notebook prints patterns to 8 decimals

    static double[][] X => SyntheticFixtures.X;

    [Fact]
    public void Linear_model_pattern_matches_the_notebook()
    {
        var p = PatternEstimator.ComputePattern(X, SyntheticExperiment.Targets(), SyntheticExperiment.Weights, outerProductQuirk: false);
        Assert.Equal(1.01835493, p[0], PrintedDigits);
        Assert.Equal(0.01835493, p[1], PrintedDigits);
    }

    [Fact]
    public void PatternNet_estimates_the_same_pattern_from_its_own_outputs_and_reconstructs_the_signal()
    {
        var layer = SyntheticExperiment.LinearPatternNet(X);
        var p = layer.Pattern!;
        Assert.Equal(2, p.Count);
        Assert.Equal(1.01835493, p[0], PrintedDigits);
        Assert.Equal(0.01835493, p[1], PrintedDigits);
        // The reconstruction of target z is z·a: mostly along (1, 0), the signal direction.
        Assert.Equal(new[] { 0.5 * p[0], 0.5 * p[1] }, layer.Backward(0.5));
    }

    [Fact]
    public void Notebook_estimator_reproduces_the_printed_patterns()
    {
        var net = SyntheticExperiment.PatternAttributionNet(X, PatternEstimatorMode.Notebook);
        var layer1 = ((PatternLayer)net.Layers[0]).Pattern!;
        var layer2 = ((PatternLayer)net.Layers[1]).Pattern!;
        Assert.Equal(3, layer1.Count);
        Assert.Equal(-1.00329617, layer1[0], PrintedDigits);
        Assert.Equal(-0.00329617, layer1[1], PrintedDigits);
        Assert.Equal(0.0, layer1[2]);
        // For a 1-D input the pattern is 1/w exactly.
        Assert.Equal(new[] { -1.0, 0.0 }, layer2);
    }

    [Fact]
    public void Corrected_estimator_gives_the_bug_free_pattern()
    {
        var net = SyntheticExperiment.PatternAttributionNet(X, PatternEstimatorMode.Corrected);
        var layer1 = ((PatternLayer)net.Layers[0]).Pattern!;
        Assert.Equal(-1.01706753, layer1[0], PrintedDigits);
        Assert.Equal(-0.01706753, layer1[1], PrintedDigits);
        Assert.Equal(0.0, layer1[2]);
        Assert.Equal(new[] { -1.0, 0.0 }, ((PatternLayer)net.Layers[1]).Pattern!);
    }

    [Theory]
    [InlineData(PatternEstimatorMode.Notebook)]
    [InlineData(PatternEstimatorMode.Corrected)]
    public void Layer_one_pattern_is_normalised_so_that_w_dot_a_is_one(PatternEstimatorMode mode)
    {
        var net = SyntheticExperiment.PatternAttributionNet(X, mode);
        var layer = (PatternLayer)net.Layers[0];
        var w = layer.InputWeights;
        var a = layer.Pattern!;
        Assert.Equal(1.0, w[0] * a[0] + w[1] * a[1], 1e-12);
    }

    [Fact]
    public void Broadcast_quirk_turns_E_xy_into_the_product_of_means()
    {
        // B15 on layer one: E[x₊y₊] over all M² pairs equals mean(x₊)·mean(y₊) up to rounding.
        var outputs = X.Select(x => Math.Max(0.0, 1.0 - x[0] + x[1])).ToArray();
        var positive = Enumerable.Range(0, X.Length).Where(i => outputs[i] > 0).ToArray();
        double[] xs = [.. positive.Select(i => X[i][0])];
        double[] ys = [.. positive.Select(i => outputs[i])];
        double quirk = NumpyOrder.OuterProductMean(xs, ys);
        Assert.Equal(xs.Average() * ys.Average(), quirk, 1e-12);
        double elementwise = xs.Zip(ys, (a, b) => a * b).Average();
        Assert.True(Math.Abs(quirk - elementwise) > 1e-3, "the quirk should change E[x₊y₊] materially here");
    }

    [Fact]
    public void Layer_one_pattern_is_the_one_implied_by_the_PA_csvs()
    {
        // PA = (−a₁·f, a₂·f) wherever layer one is active, so the CSVs pin down a (with the quirk).
        var f = SyntheticFixtures.Column("y.csv");
        var paSignal = SyntheticFixtures.Column("PA_signal.csv");
        var paDistractor = SyntheticFixtures.Column("PA_distractor.csv");
        var a = ((PatternLayer)SyntheticExperiment.PatternAttributionNet(X).Layers[0]).Pattern!;
        int used = 0;
        for (int i = 0; i < f.Length; i++)
        {
            if (paSignal[i] == 0 || Math.Abs(f[i]) < 1e-3) continue;
            Assert.Equal(a[0], -paSignal[i] / f[i], 1e-12);
            Assert.Equal(a[1], paDistractor[i] / f[i], 1e-12);
            used++;
        }
        Assert.True(used > 250, $"only {used} rows carried the pattern");
    }

    [Fact]
    public void Pattern_estimator_validates_shapes()
    {
        Assert.Throws<ArgumentException>(() =>
            PatternEstimator.ComputePattern(X, new double[3], SyntheticExperiment.Weights, outerProductQuirk: false));
        Assert.Throws<ArgumentException>(() =>
            PatternEstimator.ComputePattern(X, SyntheticExperiment.Targets(), [1.0, -1.0, 0.0], outerProductQuirk: false));
    }

    [Fact]
    public void Multi_output_estimator_matches_the_single_output_one_column_by_column()
    {
        // Two identical units (z, z) with weights w each: every column must be the single-unit pattern
        // (E[y] over the N×2 outputs is the same mean, summed in another order).
        var z = SyntheticExperiment.Targets();
        var outputs = z.Select(v => new[] { v, v }).ToArray();
        var weights = new double[,] { { 1.0, 1.0 }, { -1.0, -1.0 } };
        var both = PatternEstimator.ComputePattern(X, outputs, weights, outerProductQuirk: false);
        var single = PatternEstimator.ComputePattern(X, z, SyntheticExperiment.Weights, outerProductQuirk: false);
        for (int o = 0; o < 2; o++)
        {
            Assert.Equal(single[0], both[0, o], 1e-12);
            Assert.Equal(single[1], both[1, o], 1e-12);
        }
    }
}
