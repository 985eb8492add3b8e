using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>
/// Expected gradients (Erion et al.), spec §5.10.
/// Faithful (quirk B8): baselines are the batch itself rolled by k = 1…n along the batch axis, and one
/// α ~ U[0,1) per step is shared by the whole batch; needs a batch larger than n.
/// Corrected: each image draws its own n baselines from a fixed reference set and its own α's, seeded
/// by the image id, so the result does not depend on the batch it lands in.
/// </summary>
public sealed class ExpectedGradients(IGradientSource source, int samples, bool batchBaselines, Tensor? referenceSet, long memoryBudgetBytes) : AttributionMethod
{
    /// <summary>Faithful (B8): baselines from the batch itself; corrected: from a fixed reference set.</summary>
    public static readonly MethodKind Declaration = new("exp_grad", [ParamSpec.Samples(49)], "expected gradients",
        b => new ExpectedGradients(b.Gradient, b.Method.Int("n_samples"), b.Quirks.ExpGradBatchBaselines, b.ReferenceSet, b.MemoryBudgetBytes))
    {
        OwnQuirks = q => [("exp_grad_batch_baselines", q.ExpGradBatchBaselines)],
        BatchCoupled = q => q.ExpGradBatchBaselines,
        UsesReferenceSet = q => !q.ExpGradBatchBaselines,
    };

    public override string Kind => "exp_grad";
    public override long PassesPerImage => samples * source.PassesPerInput;

    public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch)
    {
        long b = x.shape[0];
        Tensor baselines, alphas; // S×B×C×H×W, S×B×1×1×1
        if (batchBaselines)
        {
            if (b <= samples)
                throw new InvalidOperationException(
                    $"exp_grad in faithful mode takes its {samples} baselines from the other images of the batch and needs more than {samples} images in every batch (got a batch of {b}). " +
                    "Raise batch_size; if it is the last batch, use a val_size that is a multiple of batch_size (or that the data has enough images for); " +
                    "or lower exp_grad's n_samples, or set quirks.exp_grad_batch_baselines: false.");
            baselines = torch.stack(Enumerable.Range(1, samples).Select(k => x.roll(k, 0)).ToArray(), 0);
            using var gen = Seeds.Generator(batch.Seed, "exp_grad_alpha", batch.BatchKey);
            alphas = torch.rand(new long[] { samples, 1, 1, 1, 1 }, generator: gen, dtype: x.dtype).to(x.device).expand(samples, b, 1, 1, 1);
        }
        else
        {
            if (referenceSet is null || referenceSet.shape[0] == 0)
                throw new InvalidOperationException("exp_grad without batch baselines needs a reference set of images");
            var bl = new List<Tensor>(); var al = new List<Tensor>();
            for (int i = 0; i < b; i++)
            {
                using var gen = Seeds.Generator(batch.Seed, "exp_grad", batch.ImageIds[i]);
                var idx = torch.randint(referenceSet.shape[0], new long[] { samples }, generator: gen);
                bl.Add(referenceSet.index_select(0, idx.to(referenceSet.device)).to(x.device));
                al.Add(torch.rand(new long[] { samples, 1, 1, 1 }, generator: gen, dtype: x.dtype).to(x.device));
            }
            baselines = torch.stack(bl, 1);
            alphas = torch.stack(al, 1);
        }

        var total = torch.zeros_like(x);
        long chunk = GradientSourceExtensions.GroupsPerChunk(x, memoryBudgetBytes);
        for (int s = 0; s < samples; s += (int)chunk)
        {
            using var scope = torch.NewDisposeScope();
            int e = (int)Math.Min(samples, s + chunk);
            var bs = baselines[TensorIndex.Slice(s, e)];
            var diff = x.unsqueeze(0) - bs;
            var points = bs + alphas[TensorIndex.Slice(s, e)] * diff;
            var grads = source.Compute(points, classes, Enumerable.Range(s + 1, e - s).Select(k => (long)k).ToArray(), batch);
            for (int k = 0; k < e - s; k++) total.add_(diff[k] * grads[k]);
        }
        return total / samples;
    }
}
