using System.Globalization;
using PgIg.Data.Images;
using PgIg.Degradation;
using PgIg.Models;
using PgIg.Tests.ImageNetTrack;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PgIg.Tests.Degradation;

public class IncrementalDegraderTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-6;

    /// <summary>
    /// Float32 random nets from space-separated tokens: convN (3×3, pad 1), convNkKpP, convNkKpPsS (stride S),
    /// poolKsS (max-pool; pool = 2×2/2), avgKsS (average pool), relu, id, flatten, denseN. He-scaled weights, biases 0.1·N(0, 1).
    /// </summary>
    internal static SequentialNet Net(string layout, long[] inputShape, long seed)
    {
        var gen = new Generator((ulong)seed);
        var layers = new List<Layer>();
        var shape = inputShape.ToArray();
        long Int(string s) => long.Parse(s, CultureInfo.InvariantCulture);
        foreach (var tok in layout.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (tok.StartsWith("conv", StringComparison.Ordinal))
            {
                var parts = tok[4..].Split('k', 'p', 's');
                long o = Int(parts[0]), k = parts.Length > 1 ? Int(parts[1]) : 3, p = parts.Length > 2 ? Int(parts[2]) : k / 2;
                long st = parts.Length > 3 ? Int(parts[3]) : 1;
                var w = (torch.randn(new[] { o, shape[0], k, k }, generator: gen) * Math.Sqrt(2.0 / (shape[0] * k * k))).DetachFromDisposeScope();
                var b = (torch.randn(new[] { o }, generator: gen) * 0.1).DetachFromDisposeScope();
                var conv = new Conv2dLayer { Weight = w, Bias = b, Padding = p, Stride = st };
                layers.Add(conv);
                shape = [o, conv.OutputSize(shape[1]), conv.OutputSize(shape[2])];
            }
            else if (tok.StartsWith("pool", StringComparison.Ordinal) || tok.StartsWith("avg", StringComparison.Ordinal))
            {
                bool max = tok.StartsWith("pool", StringComparison.Ordinal);
                var parts = tok[(max ? 4 : 3)..].Split('s', StringSplitOptions.RemoveEmptyEntries);
                long k = parts.Length > 0 ? Int(parts[0]) : 2, s = parts.Length > 1 ? Int(parts[1]) : k;
                Pool2dLayer pool = max ? new MaxPool2dLayer { KernelSize = k, Stride = s } : new AvgPool2dLayer { KernelSize = k, Stride = s };
                layers.Add(pool);
                shape = [shape[0], pool.OutputSize(shape[1]), pool.OutputSize(shape[2])];
            }
            else if (tok.StartsWith("dense", StringComparison.Ordinal))
            {
                long o = Int(tok[5..]);
                var w = (torch.randn(new[] { o, shape[0] }, generator: gen) * Math.Sqrt(2.0 / shape[0])).DetachFromDisposeScope();
                var b = (torch.randn(new[] { o }, generator: gen) * 0.1).DetachFromDisposeScope();
                layers.Add(new LinearLayer { Weight = w, Bias = b });
                shape = [o];
            }
            else if (tok == "relu") layers.Add(new ReluLayer());
            else if (tok == "id") layers.Add(new IdentityLayer("dropout"));
            else if (tok == "flatten") { layers.Add(new FlattenLayer()); shape = [shape.Aggregate(1L, (a, c) => a * c)]; }
            else throw new ArgumentException(tok);
        }
        return new SequentialNet(layers, inputShape);
    }

    internal static Tensor Orders(Tensor x, int patch, DegradationOrder order, long seed)
    {
        using var gen = new Generator((ulong)seed);
        var saliency = torch.randn(x.shape, generator: gen);   // a random attribution map per image
        var ids = Enumerable.Range(0, (int)x.shape[0]).Select(i => (long)i).ToArray();
        return PatchRanking.Order(saliency, patch, order, signed: true, ids, seed);
    }

    /// <summary>max |full − incremental| over every curve point, for every B1 × B2 × order combination.</summary>
    void AssertSameCurves(SequentialNet net, Tensor x, int patch, int steps, long budget, IncrementalTuning tuning, string what)
    {
        using var scope = torch.NewDisposeScope();
        var classes = net.Probabilities(x).argmax(-1);
        foreach (var order in new[] { DegradationOrder.Morf, DegradationOrder.Lerf, DegradationOrder.Random })
        {
            var ranking = Orders(x, patch, order, seed: 3);
            foreach (bool skipTop in new[] { true, false })
                foreach (bool positiveOnly in new[] { true, false })
                {
                    var o = new DegradeOptions(patch, steps, skipTop, positiveOnly);
                    var full = Degrader.Curves(net, x, classes, ranking, o, 1L << 30);
                    var incremental = IncrementalDegrader.Curves(net, x, classes, ranking, o, budget, tuning);
                    Assert.Equal(full.shape, incremental.shape);
                    Assert.Equal(ScalarType.Float32, incremental.dtype);
                    double err = (full - incremental).abs().max().item<float>();
                    Assert.True(err <= Tolerance, $"{what}, {order}, B1 {skipTop}, B2 {positiveOnly}: max |Δp| {err:G3}");
                    // the curves must actually move, or the comparison says little
                    Assert.True((full - full[TensorIndex.Colon, TensorIndex.Slice(0, 1)]).abs().max().item<float>() > 1e-4, $"{what}: flat curves");
                }
        }
    }

    public static IEnumerable<object[]> SmallNets() =>
    [
        // 27 → pool 13 (odd: drops the last row and column) → pool 6
        ["conv4 relu conv4 relu pool conv6 relu pool flatten dense5", new long[] { 3, 27, 27 }, 3],
        // 5×5 and valid (pad 0) convs shrink the map; pad 1 with k 5 reaches further on one side of the centre
        ["conv4k5p2 relu conv5k3p0 relu pool conv4k5p1 relu id flatten dense6 relu dense4", new long[] { 3, 27, 27 }, 9],
        // a 3×3 stride-2 pool (overlapping windows): 25 → 12 → pool 6
        ["conv3 relu pool3s2 conv5 relu pool flatten dense4", new long[] { 1, 25, 25 }, 5],
        // ReLU on the input itself, a 1×1 conv, 21 → 10 (drops a row) → 5
        ["relu conv4k1p0 conv4 relu pool conv4 relu pool flatten dense3", new long[] { 1, 21, 21 }, 7],
        // custom-model layers: stride-2 convs (24 → 12, and 27 → 14 with a 5×5 kernel, 6 → 3), average pools
        // with disjoint (12 → 6) and overlapping (14 → 6) windows
        ["conv4k3p1s2 relu conv4 relu avg2s2 flatten dense5", new long[] { 3, 24, 24 }, 3],
        ["conv4k5p2s2 relu avg3s2 conv5k3p1s2 relu flatten dense4", new long[] { 2, 27, 27 }, 9],
        // no spatial layer: everything is the tail
        ["flatten dense8 relu dense3", new long[] { 2, 8, 8 }, 2],
    ];

    [Theory]
    [MemberData(nameof(SmallNets))]
    public void Matches_the_full_engine_on_small_nets(string layout, long[] inputShape, int patch)
    {
        using var scope = torch.NewDisposeScope();
        using var net = Net(layout, inputShape, seed: 1);
        using var gen = new Generator(5);
        var x = torch.randn(new long[] { 3 }.Concat(inputShape).ToArray(), generator: gen);
        long patches = inputShape[1] / patch * (inputShape[2] / patch);
        int steps = (int)Math.Min(patches, 12);
        // default tuning, then windows everywhere (no full maps, only the dense head in the tail), then every
        // stage as a full map (all in the tail), then windows on libtorch's threads
        foreach (var tuning in new IncrementalTuning[] { new(), new(FullMapFraction: 1.0), new(FullMapFraction: 0.0), new(WindowThreads: 0) })
            AssertSameCurves(net, x, patch, steps, 1L << 30, tuning, $"{layout} @ {tuning}");
        // a budget of one byte: one image per chunk, the tail run after every step
        AssertSameCurves(net, x, patch, steps, 1, new IncrementalTuning(), $"{layout} @ 1 byte");
    }

    [Fact]
    public void Every_step_up_to_the_last_patch_matches()
    {
        // all 49 steps (B1) and 50 (corrected) of a 7×7 grid: every patch is degraded, borders included
        using var scope = torch.NewDisposeScope();
        using var net = Net("conv4 relu conv4 relu pool conv6 relu pool flatten dense5", [1, 21, 21], seed: 2);
        using var gen = new Generator(6);
        var x = torch.randn(new long[] { 2, 1, 21, 21 }, generator: gen);
        var classes = net.Probabilities(x).argmax(-1);
        var ranking = Orders(x, 3, DegradationOrder.Random, seed: 4);
        foreach (var (skipTop, steps) in new[] { (true, 49), (false, 50) })
        {
            var o = new DegradeOptions(3, steps, skipTop, PositiveOnlyReplacement: false);
            var full = Degrader.Curves(net, x, classes, ranking, o, 1L << 30);
            var incremental = IncrementalDegrader.Curves(net, x, classes, ranking, o, 1L << 30);
            Assert.True((full - incremental).abs().max().item<float>() <= Tolerance);
        }
    }

    [Fact]
    public void Matches_the_full_engine_on_a_narrow_vgg16_at_225()
    {
        using var scope = torch.NewDisposeScope();
        var spec = Architectures.Vgg16With(NarrowVgg.ConvWidths, NarrowVgg.Fc, NarrowVgg.Fc, NarrowVgg.Classes);
        using var gen = new Generator(7);
        var (w, b) = Architectures.Initial(spec, gen);
        w[0] = (w[0] / 128).DetachFromDisposeScope();   // 0–255 inputs: keep the logits O(1), as NarrowVgg does
        for (int i = 0; i < b.Count; i++) b[i] = (torch.randn(b[i].shape, generator: gen) * 0.01).DetachFromDisposeScope();
        using var net = Architectures.Build(spec, w, b);
        string fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures", "images");
        var x = torch.stack(new[] { "bee.jpg", "castle.jpg", "elephant.png" }
            .Select(f => torch.tensor(VggPreprocess.Load(Path.Combine(fixtures, f)), new long[] { 3, 225, 225 })), 0);
        var classes = net.Probabilities(x).argmax(-1);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        foreach (var order in new[] { DegradationOrder.Morf, DegradationOrder.Random })
        {
            // rank by the image itself: patches of very different brightness, so B2 matters
            var ranking = order == DegradationOrder.Random ? Orders(x, 9, order, seed: 8)
                : PatchRanking.Order(x, 9, order, signed: true, [0, 1, 2], 0);
            foreach (var (skipTop, positiveOnly) in new[] { (true, true), (false, false) })
            {
                var o = new DegradeOptions(9, 8, skipTop, positiveOnly);
                var full = Degrader.Curves(net, x, classes, ranking, o, 1L << 30);
                foreach (long budget in new[] { 1L << 30, 1 })
                {
                    var incremental = IncrementalDegrader.Curves(net, x, classes, ranking, o, budget);
                    double err = (full - incremental).abs().max().item<float>();
                    output.WriteLine($"{order} B1 {skipTop} B2 {positiveOnly} budget {budget}: max |Δp| {err:G3}, p range {full.min().item<float>():G3}–{full.max().item<float>():G3}");
                    Assert.True(err <= Tolerance, $"{order}, B1 {skipTop}, B2 {positiveOnly}, budget {budget}: max |Δp| {err:G3}");
                }
                Assert.True((full - full[TensorIndex.Colon, TensorIndex.Slice(0, 1)]).abs().max().item<float>() > 1e-5, "flat curves");
            }
        }
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public void Leaves_no_tensor_alive_but_its_result()
    {
        using var scope = torch.NewDisposeScope();
        using var net = Net("conv4 relu pool conv4 relu pool flatten dense3", [1, 12, 12], seed: 1);
        var x = torch.randn(2, 1, 12, 12);
        var classes = torch.zeros(2, dtype: ScalarType.Int64);
        var ranking = Orders(x, 3, DegradationOrder.Random, seed: 1);
        var o = new DegradeOptions(3, 10, true, true);
        IncrementalDegrader.Curves(net, x, classes, ranking, o, 1).Dispose();   // warm-up: lazily created globals
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        foreach (long budget in new[] { 1L, 1L << 30 })
            IncrementalDegrader.Curves(net, x, classes, ranking, o, budget).Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Rejects_what_the_full_engine_rejects()
    {
        using var scope = torch.NewDisposeScope();
        using var net = Net("conv2 relu flatten dense2", [1, 4, 4], seed: 1);
        var x = torch.randn(1, 1, 4, 4);
        var order = torch.arange(4, dtype: ScalarType.Int64).unsqueeze(0);
        var c = torch.zeros(1, dtype: ScalarType.Int64);
        Assert.Contains("exceeds", Assert.Throws<InvalidOperationException>(() => IncrementalDegrader.Curves(net, x, c, order, new DegradeOptions(2, 5, true, true), 1 << 20)).Message);
        Assert.Contains("does not tile", Assert.Throws<InvalidOperationException>(() => IncrementalDegrader.Curves(net, x, c, order, new DegradeOptions(3, 2, true, true), 1 << 20)).Message);
    }
}
