using PgIg.Models;
using PgIg.Tests.Synthetic;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Estimator = PgIg.Patterns.PatternEstimator;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Tests.Rules;

/// <summary>The engine's a₊ estimator (spec §3.2).</summary>
public class PatternEstimatorTests
{
    const string Layout = "conv4 relu pool conv6 relu pool flatten dense8 relu dense3";

    [Theory]
    [InlineData(ScalarType.Float32, 81L)]
    [InlineData(ScalarType.Float64, 82L)]
    public void Patterns_satisfy_w_dot_a_equals_one_for_active_units(ScalarType dtype, long seed)
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build(Layout, [1, 8, 8], seed, dtype);
        var x = TinyNets.Inputs(48, net.InputShape, seed + 1, dtype);
        using var est = new Estimator(net);
        est.Add(x[TensorIndex.Slice(0, 20)]);
        est.Add(x[TensorIndex.Slice(20, 48)]);
        using var patterns = est.Result();
        var active = ActiveUnits(net, x);
        int checkedUnits = 0;
        for (int i = 0; i < net.WeightedLayers.Count; i++)
        {
            var w = net.WeightedLayers[i].Weight;
            Assert.Equal(w.shape, patterns.A[i].shape);
            var wta = (w * patterns.A[i]).reshape(w.shape[0], -1).sum(1).to(ScalarType.Float64);
            for (int j = 0; j < w.shape[0]; j++)
            {
                double v = wta[j].item<double>();
                if (active[i][j]) { Assert.True(Math.Abs(v - 1) < 1e-4, $"layer {i} unit {j}: wᵀa = {v}"); checkedUnits++; }
                else Assert.Equal(0.0, TinyNets.MaxAbs(patterns.A[i][j]));
            }
        }
        Assert.True(checkedUnits > 10);
    }

    /// <summary>Units whose pre-activation is positive for some input at some position.</summary>
    static List<bool[]> ActiveUnits(SequentialNet net, Tensor x)
    {
        var result = new List<bool[]>();
        using var _ = torch.no_grad();
        Tensor h = x;
        foreach (var layer in net.Layers)
        {
            h = layer switch
            {
                Conv2dLayer c => F.conv2d(h, c.Weight, c.Bias, padding: new[] { c.Padding, c.Padding }),
                LinearLayer l => F.linear(h, l.Weight, l.Bias),
                ReluLayer => F.relu(h),
                MaxPool2dLayer => F.max_pool2d(h, new long[] { 2, 2 }, new long[] { 2, 2 }),
                _ => h.flatten(1),
            };
            if (layer is WeightedLayer wl)
            {
                var perUnit = h.transpose(0, 1).reshape(wl.OutFeatures, -1).gt(0).any(1);
                result.Add(Enumerable.Range(0, (int)wl.OutFeatures).Select(j => perUnit[j].item<bool>()).ToArray());
            }
        }
        return result;
    }

    [Fact]
    public void First_conv_and_a_dense_layer_match_a_direct_a_plus_computation()
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build("conv3 relu pool flatten dense4 relu dense2", [2, 6, 6], 85);
        var x = TinyNets.Inputs(12, net.InputShape, 86);
        using var est = new Estimator(net);
        est.Add(x);
        using var p = est.Result();

        // conv: every zero-padded 3×3×C patch, cut out by slicing, ordered (c, kh, kw)
        var conv = (Conv2dLayer)net.Layers[0];
        var padded = F.pad(x, [1, 1, 1, 1]);
        var patches = new List<Tensor>();
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                patches.Add(padded[.., .., TensorIndex.Slice(i, i + 3), TensorIndex.Slice(j, j + 3)].reshape(12, -1));
        var px = torch.cat(patches, 0);
        TinyNets.AssertClose(APlus(px, conv.Weight.reshape(3, -1), conv.Bias).reshape(conv.Weight.shape), p.A[0], 1e-10, "conv");

        // first dense layer: its input is the flattened pooled activation
        var dense = (LinearLayer)net.Layers[4];
        var h = F.max_pool2d(F.relu(F.conv2d(x, conv.Weight, conv.Bias, padding: new long[] { 1, 1 })), new long[] { 2, 2 }, new long[] { 2, 2 }).flatten(1);
        TinyNets.AssertClose(APlus(h, dense.Weight, dense.Bias), p.A[1], 1e-10, "dense");
    }

    [Fact]
    public void Strided_conv_behind_an_average_pool_matches_a_direct_a_plus_computation()
    {
        // custom models: the estimator sees the pooled map, and a stride-2 conv only the patches its kernel visits
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build("avg2s2 conv3k3p1s2 relu flatten dense2", [2, 12, 12], 87);
        var x = TinyNets.Inputs(10, net.InputShape, 88);
        using var est = new Estimator(net);
        est.Add(x);
        using var p = est.Result();

        var conv = (Conv2dLayer)net.Layers[1];
        var padded = F.pad(F.avg_pool2d(x, new long[] { 2, 2 }, new long[] { 2, 2 }), [1, 1, 1, 1]);   // 6×6 → 8×8
        var patches = new List<Tensor>();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                patches.Add(padded[.., .., TensorIndex.Slice(2 * i, 2 * i + 3), TensorIndex.Slice(2 * j, 2 * j + 3)].reshape(10, -1));
        TinyNets.AssertClose(APlus(torch.cat(patches, 0), conv.Weight.reshape(3, -1), conv.Bias).reshape(conv.Weight.shape), p.A[0], 1e-10, "strided conv");
    }

    /// <summary>a₊ per output unit j (rows of w): (E₊[x y] − E₊[x] E[y]) / wⱼᵀ(…), looped over units.</summary>
    static Tensor APlus(Tensor x, Tensor w, Tensor b)
    {
        var rows = new List<Tensor>();
        for (int j = 0; j < w.shape[0]; j++)
        {
            var y = x.matmul(w[j]) + b[j];
            var pos = y.gt(0);
            var xp = x[pos]; var yp = y[pos];
            var num = (xp * yp.unsqueeze(1)).mean([0L]) - xp.mean([0L]) * y.mean();
            rows.Add(num / w[j].dot(num));
        }
        return torch.stack(rows, 0);
    }

    [Fact]
    public void Batches_are_streamed_exactly()
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build(Layout, [1, 8, 8], 83);
        var x = TinyNets.Inputs(30, net.InputShape, 84);
        using var whole = new Estimator(net);
        whole.Add(x);
        using var parts = new Estimator(net);
        foreach (var (s, e) in new[] { (0, 7), (7, 8), (8, 30) }) parts.Add(x[TensorIndex.Slice(s, e)]);
        using var a = whole.Result();
        using var b = parts.Result();
        for (int i = 0; i < a.A.Count; i++) TinyNets.AssertClose(a.A[i], b.A[i], 1e-10, $"layer {i}");
    }

    [Fact]
    public void Linear_layer_on_the_synthetic_data_gives_the_notebook_pattern()
    {
        // spec §9.5: compute_pattern(X, z, w) with w = (1, −1) is [1.01835493, 0.01835493]
        using var scope = torch.NewDisposeScope();
        var rows = SyntheticFixtures.X;
        var x = torch.tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, 2 }, ScalarType.Float64);
        var layer = new LinearLayer { Weight = torch.tensor(new double[] { 1, -1 }).reshape(1, 2), Bias = torch.zeros(1, ScalarType.Float64) };
        using var net = new SequentialNet([layer], [2]);
        using var est = new Estimator(net);
        est.Add(x);
        using var p = est.Result();
        Assert.Equal(1.01835493, p.A[0][0, 0].item<double>(), 1e-6);
        Assert.Equal(0.01835493, p.A[0][0, 1].item<double>(), 1e-6);
    }
}
