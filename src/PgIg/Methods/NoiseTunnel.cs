using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Methods;

public enum NoiseReduction { Mean, MeanOfSquares, Variance }

/// <summary>Switches for the SmoothGrad family's quirks (spec §5.6, §14 B4 B5 B7).</summary>
/// <param name="CumulativeNoise">B4: each sample adds noise to the previous noisy input (sample k has std √k·σ).</param>
/// <param name="CumulativeGradient">B5: the k-th gradient is the running sum Σ_{j≤k} g_j (PyTorch's un-zeroed .grad).</param>
/// <param name="BatchSigma">B7: σ from the range of the whole batch rather than of each image.</param>
public sealed record NoiseQuirks(bool CumulativeNoise, bool CumulativeGradient, bool BatchSigma);

/// <summary>
/// Wraps any gradient source with Gaussian input noise, like Captum's NoiseTunnel: SmoothGrad (mean),
/// SmoothGrad² (mean of squares) and VarGrad (variance) of the wrapped source's maps.
/// σ = spread · (max − min) of the input at which the tunnel runs, so inside IG (SG-IG) step k gets α_k·σ.
/// Noise is drawn per image from a generator seeded by (seed, image id, group), so it does not depend on
/// the batch's composition or on chunking.
/// </summary>
public sealed class NoiseTunnel(IGradientSource inner, NoiseReduction reduction, double stdevSpread, int samples,
    NoiseQuirks quirks, long memoryBudgetBytes) : IGradientSource
{
    /// <summary>B4, B5 and B7 change every noise-tunnel method's maps.</summary>
    public static IEnumerable<(string Name, bool Value)> KeyQuirks(PgIg.Config.Quirks q) =>
        [("cumulative_noise", q.CumulativeNoise), ("cumulative_gradient", q.CumulativeGradient), ("batch_sigma", q.BatchSigma)];

    /// <summary>Under B7 σ comes from the whole batch's range, so a map depends on the batch's other images.</summary>
    public static bool BatchCoupled(PgIg.Config.Quirks q) => q.BatchSigma;

    public long PassesPerInput => samples * inner.PassesPerInput;
    public int Samples => samples;

    public Tensor Compute(Tensor xs, Tensor classes, long[] groupIds, BatchInfo batch)
    {
        var result = torch.empty_like(xs);
        for (int g = 0; g < xs.shape[0]; g++)
        {
            // one scope per group: the noise and noisy copies of a group are freed before the next one
            using var scope = torch.NewDisposeScope();
            result[g].copy_(ComputeGroup(xs[g], classes, groupIds[g], batch));
        }
        return result;
    }

    Tensor ComputeGroup(Tensor x, Tensor classes, long groupId, BatchInfo batch)
    {
        long b = x.shape[0];
        var sigma = Sigma(x);                                   // scalar or B×1×1×1
        // noise N[s, i] drawn per image: S × B × C × H × W
        var perImage = new List<Tensor>();
        var sampleShape = new long[] { samples }.Concat(x.shape.Skip(1)).ToArray();
        for (int i = 0; i < b; i++)
        {
            using var gen = Seeds.Generator(batch.Seed, "noise", batch.ImageIds[i], groupId);
            perImage.Add(torch.randn(sampleShape, dtype: x.dtype, generator: gen));
        }
        // drawn on the CPU generator so runs on any device see the same noise
        var noise = torch.stack(perImage, 1).to(x.device) * sigma;

        // noisy inputs, sample by sample (in place on a running copy when cumulative, like the original)
        var noisy = torch.empty_like(noise);
        var running = x.clone();
        for (int s = 0; s < samples; s++)
        {
            var xi = quirks.CumulativeNoise ? running.add_(noise[s]) : x + noise[s];
            noisy[s].copy_(xi);
        }

        var sum = torch.zeros_like(x);
        var sumSq = reduction == NoiseReduction.Mean ? null : torch.zeros_like(x);
        var grad = torch.zeros_like(x);
        long chunk = GradientSourceExtensions.GroupsPerChunk(x, memoryBudgetBytes);
        for (int s = 0; s < samples; s += (int)chunk)
        {
            using var scope = torch.NewDisposeScope();
            int e = (int)Math.Min(samples, s + chunk);
            var ids = Enumerable.Range(s, e - s).Select(k => groupId * 1_000_003L + k).ToArray();
            var gs = inner.Compute(noisy[TensorIndex.Slice(s, e)], classes, ids, batch);
            for (int k = 0; k < e - s; k++)
            {
                if (quirks.CumulativeGradient) grad.add_(gs[k]); else grad.copy_(gs[k]);
                sum.add_(grad);
                sumSq?.add_(grad * grad);
            }
        }
        return reduction switch
        {
            NoiseReduction.Mean => sum / samples,
            NoiseReduction.MeanOfSquares => sumSq! / samples,
            _ => sumSq! / samples - (sum / samples).pow(2),
        };
    }

    Tensor Sigma(Tensor x)
    {
        if (quirks.BatchSigma) return (x.max() - x.min()) * stdevSpread;
        var flat = x.flatten(1);
        var range = flat.max(1).values - flat.min(1).values;
        return (range * stdevSpread).reshape(-1, 1, 1, 1);
    }
}
