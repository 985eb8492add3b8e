using PgIg.Config;
using PgIg.Methods;
using PgIg.Rules;
using PgIg.Tests.Rules;
using PgIg.Util;
using TorchSharp;
using Xunit;
using static PgIg.Tests.Methods.MethodFixtures;
using static TorchSharp.torch;

namespace PgIg.Tests.Methods;

/// <summary>SmoothGrad family (spec §5.6–5.8) and its quirks B4, B5, B7.</summary>
public class NoiseTunnelTests
{
    const string Layout = "conv4 relu pool conv5 relu pool flatten dense6 relu dense3";
    static readonly long[] Shape = [1, 9, 9];
    static readonly NoiseQuirks Faithful = new(true, true, true);
    static readonly NoiseQuirks Corrected = new(false, false, false);

    /// <summary>Returns its input as the "gradient" and records every input it was asked about.</summary>
    sealed class Recorder : IGradientSource
    {
        public List<Tensor> Inputs { get; } = [];
        public long PassesPerInput => 1;
        public Tensor Compute(Tensor xs, Tensor classes, long[] groupIds, BatchInfo batch)
        {
            Inputs.Add(xs.clone().DetachFromDisposeScope());
            return xs.clone();
        }
    }

    /// <summary>The standard-normal draws of image <paramref name="id"/>, as the tunnel seeds them (group 0).</summary>
    static Tensor Draws(long seed, long id, int n, long[] shape, ScalarType dtype)
    {
        using var gen = Seeds.Generator(seed, "noise", id, 0L);
        return torch.randn(new long[] { n }.Concat(shape).ToArray(), dtype: dtype, generator: gen);
    }

    [Fact]
    public void SmoothGrad_with_zero_noise_equals_vanilla_grad()
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build(Layout, Shape, 41, ScalarType.Float32);
        var x = TinyNets.Inputs(3, Shape, 42, ScalarType.Float32);
        var classes = TinyNets.Classes(0, 1, 2);
        var grad = Grad(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax);
        var vanilla = new VanillaGrad(grad).Attribute(x, classes, Batch(0, 1, 2));
        var sg = new NoiseTunnel(grad, NoiseReduction.Mean, 0.0, 5, Corrected, TinyNets.Large).ComputeOne(x, classes, 0, Batch(0, 1, 2));
        TinyNets.AssertClose(vanilla, sg, 1e-6);
        // cumulative gradients with zero noise: (1/n) Σ_j (n + 1 − j) g = (n + 1)/2 · g
        var cum = new NoiseTunnel(grad, NoiseReduction.Mean, 0.0, 5, Faithful, TinyNets.Large).ComputeOne(x, classes, 0, Batch(0, 1, 2));
        TinyNets.AssertClose(vanilla * 3, cum, 1e-6);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SmoothGrad2_and_VarGrad_are_non_negative(bool faithful)
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build(Layout, Shape, 43, ScalarType.Float32);
        var x = TinyNets.Inputs(3, Shape, 44, ScalarType.Float32);
        var classes = TinyNets.Classes(2, 1, 0);
        var q = faithful ? Quirks.Faithful : Quirks.Corrected;
        foreach (var kind in new[] { "smooth_grad2", "var_grad" })
        {
            var m = Resolve(kind, overrides: ("n_samples", 8));
            var a = MethodRegistry.Create(m, new GradientRule(net), net, q, TinyNets.Large).Attribute(x, classes, Batch(0, 1, 2));
            double min = a.min().item<float>(), max = TinyNets.MaxAbs(a);
            Assert.True(max > 0, kind);
            // SG² is a mean of squares, exactly ≥ 0; VarGrad = E[G²] − E[G]² can round a zero variance to −ulp
            double floor = kind == "var_grad" ? -1e-6 * max : 0;
            Assert.True(min >= floor, $"{kind} ({(faithful ? "faithful" : "corrected")}): minimum {min:G3}, maximum {max:G3}");
        }
    }

    [Fact]
    public void Cumulative_gradient_gives_weights_n_plus_1_minus_j()
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build(Layout, Shape, 45, ScalarType.Float32);
        var x = TinyNets.Inputs(2, Shape, 46, ScalarType.Float32);
        var classes = TinyNets.Classes(1, 2);
        var batch = new BatchInfo([7, 3], 99, "b");
        const int n = 4;
        const double spread = 0.15;
        var bp = new Backprop(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax, TinyNets.Large);
        var actual = new NoiseTunnel(new RuleGradient(bp), NoiseReduction.Mean, spread, n, Faithful, TinyNets.Large).ComputeOne(x, classes, 0, batch);

        double sigma = (x.max() - x.min()).item<float>() * spread; // batch σ (B7)
        var draws = torch.stack(new[] { Draws(99, 7, n, Shape, x.dtype), Draws(99, 3, n, Shape, x.dtype) }, 1); // n×B×C×H×W
        var expected = torch.zeros_like(x);
        var noisy = x.clone();
        for (int j = 1; j <= n; j++)
        {
            noisy = noisy + draws[j - 1] * sigma;                   // B4: sample j carries the first j draws
            expected += bp.InputGradients(noisy, classes) * (n + 1 - j);
        }
        TinyNets.AssertClose(expected / n, actual, 1e-5);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Noisy_inputs_follow_the_noise_quirks(bool cumulative)
    {
        using var scope = torch.NewDisposeScope();
        var x = TinyNets.Inputs(3, Shape, 47, ScalarType.Float32) * torch.tensor(new float[] { 1, 2, 0.5f }).reshape(3, 1, 1, 1);
        var classes = TinyNets.Classes(0, 0, 0);
        var batch = new BatchInfo([4, 5, 6], 17, "b");
        const int n = 3;
        var rec = new Recorder();
        var tunnel = new NoiseTunnel(rec, NoiseReduction.Mean, 0.2, n, new NoiseQuirks(cumulative, false, BatchSigma: false), TinyNets.Large);
        tunnel.ComputeOne(x, classes, 0, batch);
        var seen = torch.cat(rec.Inputs, 0);                          // n×B×C×H×W
        Assert.Equal(new long[] { n, 3, 1, 9, 9 }, seen.shape);
        for (int i = 0; i < 3; i++)
        {
            var xi = x[i];
            double sigma = (xi.max() - xi.min()).item<float>() * 0.2;  // per-image σ
            var d = Draws(17, 4 + i, n, Shape, x.dtype);
            var acc = torch.zeros_like(xi);
            for (int k = 0; k < n; k++)
            {
                acc = cumulative ? acc + d[k] : d[k];
                TinyNets.AssertClose(xi + acc * sigma, seen[k, i], 1e-6, $"image {i} sample {k}");
            }
        }
    }
}
