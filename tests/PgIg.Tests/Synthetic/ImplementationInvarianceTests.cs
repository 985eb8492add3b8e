using PgIg.Synthetic;
using Xunit;

namespace PgIg.Tests.Synthetic;

public class ImplementationInvarianceTests
{
    /// <summary>
    /// The notebook's data shape, built deterministically: x₁ ~ N(0, 0.7²) and x₂ = ±x₁ with a fair
    /// random sign, so x₁ and x₂ are uncorrelated but dependent. (NumPy's seed-42 stream is not reproducible here.)
    /// </summary>
    static double[][] Data(int n = 5000, int seed = 42)
    {
        var random = new Random(seed);
        var rows = new double[n][];
        for (int i = 0; i < n; i++)
        {
            // Box–Muller from two uniforms in (0, 1].
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double x1 = 0.7 * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
            rows[i] = [x1, random.Next(2) == 1 ? x1 : -x1];
        }
        return rows;
    }

    static readonly double[] Point = [3.0, 3.0];

    [Fact]
    public void Every_layer_pattern_satisfies_w_dot_a_equals_one()
    {
        var p = ImplementationInvariance.ComputePatterns(Data());
        var w = ImplementationInvariance.Weights;
        Assert.Equal(1.0, w[0] * p.Network1Layer1[0] + w[1] * p.Network1Layer1[1], 1e-12);
        Assert.Equal(1.0, p.Network1Layer2, 1e-12); // 1-D layer with weight 1: a = 1/w
        Assert.Equal(1.0, w[0] * p.Network2Layer1[0] + w[1] * p.Network2Layer1[1], 1e-12);
    }

    [Fact]
    public void Functionally_equal_networks_get_different_PA_maps_that_both_sum_to_the_output()
    {
        var p = ImplementationInvariance.ComputePatterns(Data());
        Assert.Equal(8.0, ImplementationInvariance.Output(Point));
        var pa1 = ImplementationInvariance.PatternAttributionNetwork1(p, Point);
        var pa2 = ImplementationInvariance.PatternAttributionNetwork2(p, Point);
        Assert.Equal(8.0, pa1.Sum(), 1e-12);
        Assert.Equal(8.0, pa2.Sum(), 1e-12);
        // Different positive regimes (wᵀx > 0 vs wᵀx > 1) give different patterns, hence different maps.
        Assert.True(Math.Abs(pa1[0] - pa2[0]) > 0.05, $"net 1 {pa1[0]} vs net 2 {pa2[0]}");
        Assert.True(Math.Abs(pa1[1] - pa2[1]) > 0.05, $"net 1 {pa1[1]} vs net 2 {pa2[1]}");
    }

    [Fact]
    public void Notebook_patterns_give_the_notebook_PA_maps()
    {
        // The patterns the notebook printed (8 decimals) for its seed-42 data.
        var p = new InvariancePatterns([0.20428254, 0.39785873], 1.0, [0.26148377, 0.36925811]);
        var pa1 = ImplementationInvariance.PatternAttributionNetwork1(p, Point);
        var pa2 = ImplementationInvariance.PatternAttributionNetwork2(p, Point);
        Assert.Equal(1.6342603, pa1[0], 1e-6);
        Assert.Equal(6.3657397, pa1[1], 1e-6);
        Assert.Equal(2.09187018, pa2[0], 1e-6);
        Assert.Equal(5.90812982, pa2[1], 1e-6);
    }

    [Fact]
    public void Inputs_outside_the_positive_regime_get_no_attribution()
    {
        var p = ImplementationInvariance.ComputePatterns(Data(500));
        double[] inactive = [0.2, 0.2]; // wᵀx − 1 = −0.4
        Assert.Equal(0.0, ImplementationInvariance.Output(inactive));
        Assert.All(ImplementationInvariance.PatternAttributionNetwork1(p, inactive), v => Assert.Equal(0.0, v));
        Assert.All(ImplementationInvariance.PatternAttributionNetwork2(p, inactive), v => Assert.Equal(0.0, v));
    }
}
