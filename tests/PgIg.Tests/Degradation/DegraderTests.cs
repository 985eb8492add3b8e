using PgIg.Degradation;
using PgIg.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PgIg.Tests.Degradation;

public class DegraderTests
{
    // 1×4×4 images, 2×2 patches (a 2×2 grid). Logits = [0, Σ pixels]: p(class 1) = sigmoid(Σ x), so every
    // replaced patch shows up in the probability exactly.
    static SequentialNet SumNet()
    {
        var w = torch.zeros(2, 16); w[1] = torch.ones(16);
        return new SequentialNet([new FlattenLayer(), new LinearLayer { Weight = w, Bias = torch.zeros(2) }], [1, 4, 4]);
    }

    static readonly float[] Image =
    [
        1, 3, -1, -1,
        1, 3, -1, -3,
        2, 2, 0.5f, 0.5f,
        2, 2, 0.5f, 0.5f,
    ];
    // patch means: p0 (top-left) 2, p1 (top-right) −1.5, p2 (bottom-left) 2, p3 (bottom-right) 0.5

    static float Sigmoid(double v) => (float)(1 / (1 + Math.Exp(-v)));

    static float[] Curve(DegradeOptions o, long[] ranking)
    {
        using var net = SumNet();
        var x = torch.tensor(Image, new long[] { 1, 1, 4, 4 });
        var order = torch.tensor(ranking, new long[] { 1, ranking.Length });
        return Degrader.Curves(net, x, torch.tensor(new long[] { 1 }), order, o, 1 << 20).data<float>().ToArray();
    }

    // logits [0, 10·x[pixel]]: only one pixel matters, so each step's replacement is visible exactly
    static SequentialNet PixelNet(int pixel)
    {
        var w = torch.zeros(2, 16); w[1, pixel] = 10;
        return new SequentialNet([new FlattenLayer(), new LinearLayer { Weight = w, Bias = torch.zeros(2) }], [1, 4, 4]);
    }

    static float[] PixelCurve(int pixel, DegradeOptions o, long[] ranking)
    {
        using var net = PixelNet(pixel);
        var x = torch.tensor(Image, new long[] { 1, 1, 4, 4 });
        return Degrader.Curves(net, x, torch.tensor(new long[] { 1 }), torch.tensor(ranking, new long[] { 1, 4 }), o, 1 << 20).data<float>().ToArray();
    }

    [Fact]
    public void Faithful_never_replaces_a_patch_whose_mean_is_not_positive()
    {
        // pixel 2 (row 0, col 2, value −1) lies in p1, whose mean is −1.5; ranking p0, p1, ...
        var faithful = PixelCurve(2, new DegradeOptions(2, 3, SkipTopPatch: true, PositiveOnlyReplacement: true), [0, 1, 2, 3]);
        Assert.Equal(Sigmoid(-10), faithful[2], 6);   // p1 degraded at step 1..2 but kept (B2)
        var corrected = PixelCurve(2, new DegradeOptions(2, 3, SkipTopPatch: false, PositiveOnlyReplacement: false), [0, 1, 2, 3]);
        Assert.Equal(Sigmoid(-10), corrected[1], 6);  // step 1: only p0 degraded
        Assert.Equal(Sigmoid(-15), corrected[2], 6);  // step 2: p1 → −1.5
    }

    [Fact]
    public void Faithful_replaces_positive_patches_from_rank_one_on()
    {
        // pixel 12 (row 3, col 0, value 2) lies in p2 (mean 2): unchanged by replacement, so use pixel 0 (value 1, p0 mean 2)
        var c = PixelCurve(0, new DegradeOptions(2, 4, SkipTopPatch: true, PositiveOnlyReplacement: true), [3, 1, 0, 2]);
        Assert.Equal(Sigmoid(10), c[0], 6);
        Assert.Equal(Sigmoid(10), c[1], 6);   // rank 1 = p1
        Assert.Equal(Sigmoid(20), c[2], 6);   // rank 2 = p0 → 2
        var top = PixelCurve(0, new DegradeOptions(2, 4, SkipTopPatch: true, PositiveOnlyReplacement: true), [0, 1, 2, 3]);
        Assert.All(top, v => Assert.Equal(Sigmoid(10), v, 6));   // p0 is rank 0: never degraded (B1)
    }

    [Fact]
    public void Replacement_changes_the_probability_by_the_patch_difference()
    {
        // a patch whose mean differs from its pixels' effect: use a squared-free check via a modified image
        using var net = SumNet();
        var img = (float[])Image.Clone();
        img[0] = 5; // p0 = (5,3,1,3), mean 3, sum 12 → after replacement sum 12 (means preserve sums)
        var x = torch.tensor(img, new long[] { 1, 1, 4, 4 });
        var clean = net.Probabilities(x)[0, 1].item<float>();
        var c = Degrader.Curves(net, x, torch.tensor(new long[] { 1 }), torch.tensor(new long[] { 0, 1, 2, 3 }, new long[] { 1, 4 }),
            new DegradeOptions(2, 5, false, false), 1 << 20).data<float>().ToArray();
        // patch-mean replacement preserves each patch's sum, so a sum model's probability is invariant: a
        // property of the protocol; the first point is the clean probability (spec §15 test 5)
        Assert.Equal(clean, c[0], 6);
        Assert.All(c, v => Assert.Equal(clean, v, 5));
    }

    [Fact]
    public void Insertion_starts_fully_degraded_and_restores_the_ranking_in_order()
    {
        // pixel 0 (value 1) lies in p0 (mean 2); ranking p1, p0, …: restored at step 2
        var ins = PixelCurve(0, new DegradeOptions(2, 5, SkipTopPatch: false, PositiveOnlyReplacement: false, Insertion: true), [1, 0, 2, 3]);
        Assert.Equal([Sigmoid(20), Sigmoid(20), Sigmoid(10), Sigmoid(10), Sigmoid(10)], ins, new FloatTol());
        // B1 is a deletion quirk: insertion ignores it, and may still take all patches + 1 steps
        Assert.Equal(ins, PixelCurve(0, new DegradeOptions(2, 5, SkipTopPatch: true, PositiveOnlyReplacement: false, Insertion: true), [1, 0, 2, 3]), new FloatTol());
        // positive-only replacement (B2) applies as in deletion: p1 (mean −1.5) is never replaced
        var pixel2 = new DegradeOptions(2, 2, false, false, Insertion: true);
        Assert.Equal(Sigmoid(-15), PixelCurve(2, pixel2, [0, 1, 2, 3])[0], 6);
        Assert.Equal(Sigmoid(-10), PixelCurve(2, pixel2 with { PositiveOnlyReplacement = true }, [0, 1, 2, 3])[0], 6);
    }

    [Fact]
    public void Insertion_mirrors_deletion_end_to_end_and_the_incremental_engine_falls_back()
    {
        // corrected deletion with every patch: its last step is insertion's first and vice versa
        var del = Curve(new DegradeOptions(2, 5, false, false), [2, 0, 3, 1]);
        var ins = Curve(new DegradeOptions(2, 5, false, false, Insertion: true), [2, 0, 3, 1]);
        Assert.Equal(del[4], ins[0], 6);
        Assert.Equal(del[0], ins[4], 6);
        using var net = PixelNet(2);
        var x = torch.tensor(Image, new long[] { 1, 1, 4, 4 });
        var o = new DegradeOptions(2, 5, false, false, Insertion: true);
        var order = torch.tensor(new long[] { 1, 0, 2, 3 }, new long[] { 1, 4 });
        var full = Degrader.Curves(net, x, torch.tensor(new long[] { 1 }), order, o, 1 << 20).data<float>().ToArray();
        var incremental = IncrementalDegrader.Curves(net, x, torch.tensor(new long[] { 1 }), order, o, 1 << 20).data<float>().ToArray();
        Assert.Equal(full, incremental, new FloatTol());
        Assert.Equal(Sigmoid(-15), full[0], 6);   // p1 degraded …
        Assert.Equal(Sigmoid(-10), full[1], 6);   // … and restored first
    }

    sealed class FloatTol : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) < 1e-6;
        public int GetHashCode(float x) => 0;
    }

    [Fact]
    public void Corrected_mode_degrades_ranks_zero_to_p_minus_one()
    {
        // a max-sensitive model: logits [0, 10·x[0,0]] so only pixel (0,0) matters; it is in p0
        var w = torch.zeros(2, 16); w[1, 0] = 10;
        using var net = new SequentialNet([new FlattenLayer(), new LinearLayer { Weight = w, Bias = torch.zeros(2) }], [1, 4, 4]);
        var x = torch.tensor(Image, new long[] { 1, 1, 4, 4 });
        var order = torch.tensor(new long[] { 0, 1, 2, 3 }, new long[] { 1, 4 });
        var corrected = Degrader.Curves(net, x, torch.tensor(new long[] { 1 }), order, new DegradeOptions(2, 2, false, false), 1 << 20).data<float>().ToArray();
        Assert.Equal(Sigmoid(10), corrected[0], 6);     // x00 = 1
        Assert.Equal(Sigmoid(20), corrected[1], 6);     // p0 (rank 0) → mean 2
        var faithful = Degrader.Curves(net, x, torch.tensor(new long[] { 1 }), order, new DegradeOptions(2, 2, true, true), 1 << 20).data<float>().ToArray();
        Assert.Equal(Sigmoid(10), faithful[1], 6);      // rank 0 is never degraded (B1)
    }

    [Fact]
    public void Ranking_uses_signed_channel_sum_patch_means_descending_with_stable_ties()
    {
        var map = torch.tensor(new float[]
        {
            1, 1, -5, -5,
            1, 1, -5, -5,
            1, 1, 9, -9,
            1, 1, 0, 0,
        }, new long[] { 1, 1, 4, 4 });
        var signed = PatchRanking.Order(map, 2, DegradationOrder.Morf, signed: true, [0], 0).data<long>().ToArray();
        Assert.Equal(new long[] { 0, 2, 3, 1 }, signed);   // means 1, −5, 1, 0: tie 0/2 kept in index order
        var abs = PatchRanking.Order(map, 2, DegradationOrder.Morf, signed: false, [0], 0).data<long>().ToArray();
        Assert.Equal(new long[] { 1, 3, 0, 2 }, abs);      // |map| means 1, 5, 1, 4.5
        var lerf = PatchRanking.Order(map, 2, DegradationOrder.Lerf, signed: true, [0], 0).data<long>().ToArray();
        Assert.Equal(new long[] { 1, 3, 0, 2 }, lerf);
        var r1 = PatchRanking.Order(map, 2, DegradationOrder.Random, true, [7], 3).data<long>().ToArray();
        var r2 = PatchRanking.Order(map, 2, DegradationOrder.Random, true, [7], 3).data<long>().ToArray();
        Assert.Equal(r1, r2);
        Assert.Equal(new long[] { 0, 1, 2, 3 }, r1.Order().ToArray());
    }

    [Fact]
    public void Too_many_patches_or_a_non_tiling_patch_size_is_an_error()
    {
        Assert.Contains("exceeds", Assert.Throws<InvalidOperationException>(() => Curve(new DegradeOptions(2, 5, true, true), [0, 1, 2, 3])).Message);
        Assert.Contains("does not tile", Assert.Throws<InvalidOperationException>(() => Curve(new DegradeOptions(3, 2, true, true), [0, 1, 2, 3])).Message);
    }

    [Fact]
    public void Auc_and_aopc_follow_their_definitions()
    {
        float[] c = [1f, 0.5f, 0f];
        Assert.Equal(0.5, CurveStatistics.Auc(c), 12);            // ((1+.5)/2 + (.5+0)/2) / 2
        Assert.Equal(0.5, CurveStatistics.Aopc(c), 12);           // (0 + .5 + 1) / 3
        var s = CurveStatistics.Summarise("m", "morf", [c, [1f, 1f, 1f]], seed: 1);
        Assert.Equal(0.75, s.Auc.Value, 12);
        Assert.True(s.Auc.Low <= s.Auc.Value && s.Auc.Value <= s.Auc.High);
        Assert.Equal(s, CurveStatistics.Summarise("m", "morf", [c, [1f, 1f, 1f]], seed: 1) with { MeanCurve = s.MeanCurve });
    }
}
