using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>What a method may know about the batch it explains (seeding and batch-coupled quirks).</summary>
/// <param name="ImageIds">Stable id of each image (its position in the dataset), used to seed per-image draws.</param>
/// <param name="Seed">The method's configured seed.</param>
/// <param name="BatchKey">Identifies the batch, for draws the original shares across a batch (exp_grad's α).</param>
/// <param name="Files">Each image's file name (relative to the dataset root), where known: imported maps match by it.</param>
public sealed record BatchInfo(long[] ImageIds, long Seed, string BatchKey, string[]? Files = null);

/// <summary>An attribution method: maps a batch (B×C×H×W) and target classes (B) to maps of the input's shape.</summary>
public abstract class AttributionMethod
{
    /// <summary>The method's name in configs (integrate_grad, smooth_grad, ...).</summary>
    public abstract string Kind { get; }
    public abstract Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch);
    /// <summary>Forward+backward passes per image, for progress estimates and benchmarks.</summary>
    public abstract long PassesPerImage { get; }
}
