using PgIg.Models;
using static TorchSharp.torch;

namespace PgIg.Rules;

/// <summary>
/// How a gradient-like signal is sent back through a network: which kernel each conv/dense layer
/// uses in the backward pass, and how ReLUs gate. Methods (IG, SmoothGrad, ...) are independent of
/// the rule, so PGIG is simply integrated gradients run with <see cref="PatternRule"/>.
/// </summary>
public abstract class BackwardRule : IDisposable
{
    /// <summary>Config name: gradient, guided, pattern, patternnet, pattern_guided.</summary>
    public abstract string Name { get; }
    /// <summary>True when the rule needs patterns (and so the stage key must cover them).</summary>
    public virtual bool UsesPatterns => false;
    /// <summary>The original seeds pattern methods and guided backprop with p_c (backprop_probability).</summary>
    public virtual bool OriginalSeedsWithProbability => false;

    /// <summary>Backward kernel of the i-th weighted layer. Computed once per rule instance.</summary>
    public abstract Tensor Kernel(int weightedIndex);

    /// <summary>
    /// g ⊙ [forward output &gt; 0]; guided variants also drop negative gradients. Works in place on g,
    /// which is the backward pass's own buffer.
    /// </summary>
    public virtual Tensor ThroughRelu(Tensor g, Tensor mask) => g.mul_(mask);

    public virtual void Dispose() { }
}

/// <summary>The plain gradient: backward kernel W.</summary>
public sealed class GradientRule(SequentialNet net) : BackwardRule
{
    public override string Name => "gradient";
    public override Tensor Kernel(int i) => net.WeightedLayers[i].Weight;
}

/// <summary>Guided backprop (Springenberg et al.): ReLUs pass only positive gradients at positive units.</summary>
public sealed class GuidedRule(BackwardRule inner) : BackwardRule
{
    public override string Name => inner is PatternRule ? "pattern_guided" : "guided";
    public override bool UsesPatterns => inner.UsesPatterns;
    public override bool OriginalSeedsWithProbability => true;
    public override Tensor Kernel(int i) => inner.Kernel(i);
    public override Tensor ThroughRelu(Tensor g, Tensor mask) => g.clamp_min_(0).mul_(mask);
    public override void Dispose() => inner.Dispose();
}
