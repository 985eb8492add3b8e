using PgIg.Degradation;
using PgIg.Stages;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PgIg.Tests.Degradation;

/// <summary>ROAD's noisy linear imputation against hand-solved systems, its patch-by-patch solution against the one-shot
/// one, its noise, and both degradation engines under it.</summary>
public class RoadImputationTests
{
    const double W1 = 1.0 / 6, W2 = 1.0 / 12;   // direct and diagonal neighbour weights (road/imputations.py)

    static float[] Image(int h, int w, Func<int, int, double> f, int channels = 1)
    {
        var v = new float[channels * h * w];
        for (int ch = 0; ch < channels; ch++)
            for (int r = 0; r < h; r++)
                for (int c = 0; c < w; c++) v[(ch * h + r) * w + c] = (float)(f(r, c) * (ch + 1) + ch);
        return v;
    }

    static bool[] Mask(int h, int w, params (int R, int C)[] removed)
    {
        var m = new bool[h * w];
        foreach (var (r, c) in removed) m[r * w + c] = true;
        return m;
    }

    [Fact]
    public void Centre_of_a_3x3_image_is_the_weighted_mean_of_its_eight_neighbours()
    {
        var img = Image(3, 3, (r, c) => (r * 3 + c) * (r * 3 + c) + 0.5 * c);
        float V(int r, int c) => img[r * 3 + c];
        var result = NoisyLinearImputer.Impute(img, Mask(3, 3, (1, 1)), 1, 3, 3);
        double expected = W1 * (V(0, 1) + V(1, 0) + V(1, 2) + V(2, 1)) + W2 * (V(0, 0) + V(0, 2) + V(2, 0) + V(2, 2));
        Assert.Equal(expected, result[4], 12);
        for (int i = 0; i < 9; i++) if (i != 4) Assert.Equal(img[i], result[i]);
    }

    [Fact]
    public void A_corner_pixel_is_the_mean_over_its_three_neighbours_inside_the_image()
    {
        var img = Image(3, 3, (r, c) => 1 + r * r + 3 * c);
        var result = NoisyLinearImputer.Impute(img, Mask(3, 3, (0, 0)), 1, 3, 3);
        // weights 1/6, 1/6, 1/12 of (0,1), (1,0), (1,1), divided by their sum 5/12: (2·v01 + 2·v10 + v11) / 5
        Assert.Equal((2.0 * img[1] + 2.0 * img[3] + img[4]) / 5, result[0], 12);
    }

    [Fact]
    public void Two_adjacent_removed_pixels_solve_their_2x2_system()
    {
        // x1 = b1 + x2/6, x2 = b2 + x1/6 (interior pixels, in-image weight 1) → x1 = (36 b1 + 6 b2) / 35
        int h = 4, w = 4;
        var img = Image(h, w, (r, c) => (r * 4 + c) * (r * 4 + c) - 3 * r);
        float V(int r, int c) => img[r * w + c];
        double b1 = W1 * (V(0, 1) + V(1, 0) + V(2, 1)) + W2 * (V(0, 0) + V(0, 2) + V(2, 0) + V(2, 2));
        double b2 = W1 * (V(0, 2) + V(1, 3) + V(2, 2)) + W2 * (V(0, 1) + V(0, 3) + V(2, 1) + V(2, 3));
        var result = NoisyLinearImputer.Impute(img, Mask(h, w, (1, 1), (1, 2)), 1, h, w);
        Assert.Equal((36 * b1 + 6 * b2) / 35, result[1 * w + 1], 10);
        Assert.Equal((36 * b2 + 6 * b1) / 35, result[1 * w + 2], 10);
    }

    [Fact]
    public void Channels_share_the_matrix_and_a_linear_ramp_is_reproduced()
    {
        // the symmetric stencil reproduces any linear function away from the border; channel k is (k+1)·f + k
        int h = 12, w = 10;
        var img = Image(h, w, (r, c) => 0.25 * r - 1.5 * c + 2, channels: 3);   // exact in float32
        var removed = new List<(int, int)>();
        for (int r = 3; r < 9; r++) for (int c = 2; c < 8; c++) removed.Add((r, c));
        var result = NoisyLinearImputer.Impute(img, Mask(h, w, removed.ToArray()), 3, h, w);
        for (int i = 0; i < img.Length; i++) Assert.Equal(img[i], result[i], 9);
    }

    [Fact]
    public void Removed_pixels_on_the_border_satisfy_their_equations()
    {
        // a block along the top edge and the left edge: each removed pixel equals the weighted mean of its in-image neighbours
        int h = 9, w = 11;
        var img = Image(h, w, (r, c) => Math.Sin(r) + Math.Cos(0.7 * c) * c);
        var removed = new List<(int, int)>();
        for (int r = 0; r < 4; r++) for (int c = 0; c < 5; c++) removed.Add((r, c));
        removed.Add((8, 10));
        var result = NoisyLinearImputer.Impute(img, Mask(h, w, removed.ToArray()), 1, h, w);
        foreach (var (r, c) in removed)
        {
            double s = 0, wt = 0;
            foreach (var (dr, dc, nw) in NoisyLinearImputer.Neighbours)
            {
                int rr = r + dr, cc = c + dc;
                if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
                s += nw * result[rr * w + cc]; wt += nw;
            }
            Assert.Equal(s / wt, result[r * w + c], 10);
        }
    }

    [Fact]
    public void An_image_with_every_pixel_removed_is_zero_plus_noise()
    {
        var img = Image(4, 4, (r, c) => r + 10 * c);
        var noise = Enumerable.Range(0, 16).Select(i => 0.01f * i).ToArray();
        var result = NoisyLinearImputer.Impute(img, Enumerable.Repeat(true, 16).ToArray(), 1, 4, 4, noise);
        for (int i = 0; i < 16; i++) Assert.Equal(noise[i], result[i], 6);
    }

    [Fact]
    public void Patch_by_patch_matches_the_one_shot_solution_and_reports_every_change()
    {
        int h = 24, w = 24, p = 4;
        using var gen = new Generator(3);
        var img = torch.randn(new long[] { 2, h, w }, generator: gen).data<float>().ToArray();
        var noise = (torch.randn(new long[] { 2, h, w }, generator: gen) * 0.1).data<float>().ToArray();
        var imp = new NoisyLinearImputer(img, 2, h, w, noise);
        var mask = new bool[h * w];
        var previous = Enumerable.Range(0, img.Length).Select(i => imp.Value(i / (h * w), i / w % h, i % w)).ToArray();
        // patches that first stand alone, then join (diagonally too), then fill a whole row of the grid
        int[] patches = [0, 14, 21, 7, 35, 28, 30, 31, 32, 33, 34, 1, 2, 3, 4, 5];
        foreach (int q in patches)
        {
            int r0 = q / (w / p) * p, c0 = q % (w / p) * p;
            var changed = imp.Remove(new PixelBox(r0, r0 + p, c0, c0 + p));
            for (int r = r0; r < r0 + p; r++) for (int c = c0; c < c0 + p; c++) mask[r * w + c] = true;
            var expected = NoisyLinearImputer.Impute(img, mask, 2, h, w, noise);
            for (int i = 0; i < img.Length; i++)
            {
                int ch = i / (h * w), r = i / w % h, c = i % w;
                double v = imp.Value(ch, r, c);
                Assert.True(Math.Abs(v - expected[i]) <= 1e-9, $"patch {q}, ({ch}, {r}, {c}): {v} vs {expected[i]}");
                bool inside = r >= changed.R0 && r < changed.R1 && c >= changed.C0 && c < changed.C1;
                if (!inside) Assert.Equal(previous[i], v);   // bit for bit: outside the box nothing moved
                previous[i] = v;
            }
        }
    }

    [Fact]
    public void Noise_fields_are_seeded_per_image_and_have_the_requested_spread()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros(3, 3, 60, 60);
        double[] sigma = [2.55, 0.5, 0.0283];
        var a = RoadNoise.Fields(x, [7, 8, 9], seed: 1, sigma);
        var again = RoadNoise.Fields(x[TensorIndex.Slice(0, 2)], [9, 8], seed: 1, sigma);
        // image 9's field does not depend on the batch it comes in
        Assert.True(Same(a[2], again[0]));
        Assert.True(Same(a[1], again[1]));
        Assert.False(Same(a[0], a[1]));
        Assert.False(Same(a[0], RoadNoise.Fields(x[TensorIndex.Slice(0, 1)], [7], seed: 2, sigma)[0]));
        for (int ch = 0; ch < 3; ch++)
        {
            var v = a[TensorIndex.Colon, ch].to(ScalarType.Float64);
            double mean = v.mean().item<double>(), std = v.std().item<double>();
            // 10800 draws per channel: the mean within 5 standard errors, the spread within 5 %
            Assert.True(Math.Abs(mean) < 5 * sigma[ch] / Math.Sqrt(10800), $"channel {ch}: mean {mean}");
            Assert.True(Math.Abs(std / sigma[ch] - 1) < 0.05, $"channel {ch}: std {std} vs {sigma[ch]}");
        }
    }

    static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Incremental_engine_matches_the_full_engine_under_road(bool skipTop)
    {
        using var scope = torch.NewDisposeScope();
        using var net = IncrementalDegraderTests.Net("conv4 relu conv4 relu pool conv6 relu pool flatten dense5", [2, 24, 24], seed: 1);
        using var gen = new Generator(5);
        var x = torch.randn(new long[] { 3, 2, 24, 24 }, generator: gen);
        var noise = torch.randn(x.shape, generator: gen) * 0.05;
        var classes = net.Probabilities(x).argmax(-1);
        foreach (var order in new[] { DegradationOrder.Morf, DegradationOrder.Lerf })
        {
            var ranking = IncrementalDegraderTests.Orders(x, 4, order, seed: 3);
            var o = new DegradeOptions(4, 20, skipTop, PositiveOnlyReplacement: true, RoadNoise: noise);
            var full = Degrader.Curves(net, x, classes, ranking, o, 1L << 30);
            var incremental = IncrementalDegrader.Curves(net, x, classes, ranking, o, 1L << 30);
            double err = (full - incremental).abs().max().item<float>();
            Assert.True(err <= 1e-6, $"{order}, B1 {skipTop}: max |Δp| {err:G3}");
            // ROAD differs from the patch mean: the curves are not the mean replacement's
            var mean = Degrader.Curves(net, x, classes, ranking, o with { RoadNoise = null, PositiveOnlyReplacement = false }, 1L << 30);
            Assert.True((full - mean).abs().max().item<float>() > 1e-4, "ROAD curves equal the mean replacement's");
        }
        // a one-byte budget: one image per chunk, the tail after every step
        var r2 = IncrementalDegraderTests.Orders(x, 4, DegradationOrder.Morf, seed: 4);
        var o2 = new DegradeOptions(4, 12, skipTop, false, RoadNoise: noise);
        double e2 = (Degrader.Curves(net, x, classes, r2, o2, 1) - IncrementalDegrader.Curves(net, x, classes, r2, o2, 1)).abs().max().item<float>();
        Assert.True(e2 <= 1e-6, $"1-byte budget: max |Δp| {e2:G3}");
    }

    [Fact]
    public void Road_step_images_are_the_one_shot_imputation_of_the_removed_patches()
    {
        // the full engine's step s image, rebuilt: ranks 0…s−1 removed (corrected protocol), imputed with the same noise
        using var scope = torch.NewDisposeScope();
        using var gen = new Generator(8);
        var x = torch.randn(new long[] { 1, 1, 12, 12 }, generator: gen);
        var noise = torch.randn(x.shape, generator: gen) * 0.1;
        var order = torch.tensor(new long[] { 4, 5, 0, 8, 3, 6, 1, 7, 2 }).reshape(1, 9);
        var road = new RoadBatch(x, noise, 4);
        var clean = x.flatten().data<float>().ToArray();
        var nz = noise.flatten().data<float>().ToArray();
        var mask = new bool[144];
        for (int s = 1; s <= 9; s++)
        {
            long q = order[0, s - 1].item<long>();
            road.RemovePatch(_ => q);
            for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) mask[((int)q / 3 * 4 + r) * 12 + (int)q % 3 * 4 + c] = true;
            var expected = NoisyLinearImputer.Impute(clean, mask, 1, 12, 12, nz);
            var got = road.Images().flatten().data<float>().ToArray();
            for (int i = 0; i < 144; i++) Assert.Equal((float)expected[i], got[i], 5);
        }
    }
}
