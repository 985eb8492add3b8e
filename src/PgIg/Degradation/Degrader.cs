using PgIg.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Degradation;

/// <param name="SkipTopPatch">B1: step p degrades ranks 1…p (rank 0 never); false: ranks 0…p−1.</param>
/// <param name="PositiveOnlyReplacement">B2: replace a channel only where its patch mean is &gt; 0.</param>
/// <param name="Insertion">Insertion curve: step 0 is the fully degraded image (every patch replaced as deletion replaces
/// it) and step s restores the s first-ranked patches; SkipTopPatch does not apply (B1 is a quirk of the original's deletion).</param>
/// <param name="RoadNoise">ROAD replacement (<see cref="NoisyLinearImputer"/>) instead of the patch mean: the batch's noise
/// fields, B×C×H×W in input units (zeros for none); null: the patch mean. PositiveOnlyReplacement (B2) does not apply to it,
/// nor is it defined for insertion (no pixel is known at its step 0).</param>
public sealed record DegradeOptions(int PatchSize, int NPatches, bool SkipTopPatch, bool PositiveOnlyReplacement, bool Insertion = false, Tensor? RoadNoise = null)
{
    /// <summary>The rank of the patch that step s (≥ 1) removes: B1 removes ranks 1…s, otherwise ranks 0…s−1.</summary>
    public long RankRemovedAt(long step) => SkipTopPatch ? step : step - 1;
}

/// <summary>
/// Patch degradation (spec §7.3): at each step, the next patch in the ranking is replaced by its own
/// per-channel mean on the clean image, and the model's softmax probability of the class predicted on
/// the clean image is recorded. Steps are batched into forward passes bounded by the memory budget.
/// </summary>
public static class Degrader
{
    /// <summary>Per-image curves, B×NPatches: p_c after each step (step 0 is the clean image).</summary>
    public static Tensor Curves(SequentialNet net, Tensor x, Tensor classes, Tensor order, DegradeOptions o, long memoryBudgetBytes)
    {
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        int p = o.PatchSize;
        if (h % p != 0 || w % p != 0)
            throw new InvalidOperationException($"patch_size {p} does not tile the {h}×{w} input; choose a divisor of both");
        long gh = h / p, gw = w / p, patches = gh * gw;
        long maxSteps = o.SkipTopPatch && !o.Insertion ? patches : patches + 1;
        if (o.NPatches > maxSteps)
            throw new InvalidOperationException($"n_patches {o.NPatches} exceeds the {patches} patches of a {h}×{w} image at patch_size {p} (at most {maxSteps} steps)");

        if (o.RoadNoise is not null) return RoadCurves(net, x, classes, order, o, memoryBudgetBytes);

        var means = F.avg_pool2d(x, p, p);                                    // B×C×G×G: clean patch means
        // rank of each patch per image; degraded at step s iff rank in [first, s] (B1) or [0, s−1]
        var rank = torch.empty_like(order);
        rank.scatter_(1, order, torch.arange(patches, dtype: ScalarType.Int64, device: order.device).expand(b, patches));
        rank = rank.reshape(b, 1, gh, gw);

        long perStep = b * net.ForwardBytesPerExample();                        // degraded copies + the largest layer's activations
        return ForwardSteps(net, classes, o.NPatches, Math.Max(1, memoryBudgetBytes / Math.Max(1, perStep)), s =>
        {
            // patches degraded at step s
            var degraded = o.Insertion ? rank.ge(s) : o.SkipTopPatch ? rank.ge(1).logical_and(rank.le(s)) : rank.lt(s);   // B×1×G×G
            var k = means * degraded.to(means.dtype);                                         // the original's mask K
            var kUp = F.interpolate(k, scale_factor: new double[] { p, p }, mode: InterpolationMode.Nearest);
            Tensor replace = o.PositiveOnlyReplacement
                ? kUp.gt(0)
                : F.interpolate(degraded.to(means.dtype), scale_factor: new double[] { p, p }, mode: InterpolationMode.Nearest).gt(0).expand(b, c, h, w);
            return torch.where(replace, kUp, x);
        });
    }

    /// <summary>p(class) of every step's degraded batch (<paramref name="stepImages"/>, called in step order), forwarded in
    /// chunks of <paramref name="stepsPerChunk"/> steps stacked into one batch: B×steps.</summary>
    static Tensor ForwardSteps(SequentialNet net, Tensor classes, long steps, long stepsPerChunk, Func<long, Tensor> stepImages)
    {
        long b = classes.shape[0];
        var curves = torch.zeros(b, steps, device: classes.device);
        for (long s0 = 0; s0 < steps; s0 += stepsPerChunk)
        {
            using var scope = torch.NewDisposeScope();
            long s1 = Math.Min(steps, s0 + stepsPerChunk);
            var batch = new List<Tensor>();
            for (long s = s0; s < s1; s++) batch.Add(stepImages(s));
            var probs = net.Probabilities(torch.cat(batch, 0));                                // (steps·B)×classes
            var pc = probs.gather(1, classes.repeat(s1 - s0).unsqueeze(1)).reshape(s1 - s0, b).t();   // B×steps
            curves[TensorIndex.Colon, TensorIndex.Slice(s0, s1)] = pc;
        }
        return curves;
    }

    /// <summary>The curves under ROAD replacement: the imputed images of every step, forwarded as in <see cref="Curves"/>.</summary>
    static Tensor RoadCurves(SequentialNet net, Tensor x, Tensor classes, Tensor order, DegradeOptions o, long memoryBudgetBytes)
    {
        if (o.Insertion) throw new InvalidOperationException("ROAD replacement is not defined for insertion: its step 0 has no known pixel to impute from");
        long b = x.shape[0], patches = order.shape[1];
        var road = new RoadBatch(x, o.RoadNoise!, o.PatchSize);
        var orderCpu = order.to(ScalarType.Int64).cpu().contiguous().data<long>().ToArray();
        long perStep = b * net.ForwardBytesPerExample();
        long left = memoryBudgetBytes - b * RoadBatch.BytesPerImage(x.shape[1], x.shape[2], x.shape[3]);
        return ForwardSteps(net, classes, o.NPatches, Math.Max(1, left / Math.Max(1, perStep)), s =>
        {
            if (s > 0) road.RemovePatch(k => orderCpu[k * patches + o.RankRemovedAt(s)]);
            return road.Images().to(x.dtype).to(x.device);
        });
    }
}
