using PgIg.Rules;
using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>
/// Something that returns a gradient-like map at given inputs: the rule's backward pass, or a
/// noise-averaged version of another source. Inputs come as G groups of the same B images
/// (G×B×C×H×W): integration steps or noise samples. Groups let faithful mode compute batch-level
/// statistics (SmoothGrad's σ) per group while still running all groups in one batched pass.
/// </summary>
public interface IGradientSource
{
    /// <param name="xs">G×B×C×H×W.</param>
    /// <param name="groupIds">One id per group (e.g. the IG step), used to seed per-group draws.</param>
    Tensor Compute(Tensor xs, Tensor classes, long[] groupIds, BatchInfo batch);
    long PassesPerInput { get; }
}

/// <summary>The backward pass of a rule, batched over all groups at once.</summary>
public sealed class RuleGradient(Backprop backprop) : IGradientSource
{
    public Backprop Backprop { get; } = backprop;
    public long PassesPerInput => 1;

    public Tensor Compute(Tensor xs, Tensor classes, long[] groupIds, BatchInfo batch)
    {
        long g = xs.shape[0], b = xs.shape[1];
        var flat = xs.reshape(new long[] { g * b }.Concat(xs.shape.Skip(2)).ToArray());
        var cls = classes.repeat(g);
        return Backprop.InputGradients(flat, cls).reshape(xs.shape);
    }
}

public static class GradientSourceExtensions
{
    /// <summary>One group: B×C×H×W in, B×C×H×W out.</summary>
    public static Tensor ComputeOne(this IGradientSource source, Tensor x, Tensor classes, long groupId, BatchInfo batch) =>
        source.Compute(x.unsqueeze(0), classes, new[] { groupId }, batch).squeeze(0);

    /// <summary>How many groups of this batch fit a memory budget when stacked (at least 1; at most
    /// int.MaxValue, since callers step int loop counters by it).</summary>
    public static long GroupsPerChunk(Tensor x, long memoryBudgetBytes, long multiplier = 1) =>
        Math.Clamp(memoryBudgetBytes / Math.Max(1, x.numel() * 4 * 2 * multiplier), 1, int.MaxValue);
}
