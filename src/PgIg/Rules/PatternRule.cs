using PgIg.Models;
using PgIg.Patterns;
using static TorchSharp.torch;

namespace PgIg.Rules;

/// <summary>
/// PatternAttribution's backward (Kindermans et al.): kernel W ⊙ A with the forward pass's own ReLU
/// masks and max-pool switches. W and W ⊙ A are separate tensors; the model is never modified
/// (unlike the original's in-place swap, quirk B10).
/// </summary>
public sealed class PatternRule : BackwardRule
{
    readonly Tensor[] _kernels;
    public override string Name => "pattern";
    public override bool UsesPatterns => true;
    public override bool OriginalSeedsWithProbability => true;

    public PatternRule(SequentialNet net, PatternSet patterns)
    {
        patterns.CheckMatches(net);
        _kernels = net.WeightedLayers.Select((l, i) => (l.Weight * patterns.A[i]).DetachFromDisposeScope()).ToArray();
    }

    public override Tensor Kernel(int i) => _kernels[i];
    public override void Dispose() { foreach (var k in _kernels) k.Dispose(); }
}

/// <summary>PatternNet's backward (signal reconstruction): kernel A alone.</summary>
public sealed class PatternNetRule(SequentialNet net, PatternSet patterns) : BackwardRule
{
    readonly PatternSet _patterns = patterns.CheckMatches(net);
    public override string Name => "patternnet";
    public override bool UsesPatterns => true;
    public override bool OriginalSeedsWithProbability => true;
    public override Tensor Kernel(int i) => _patterns.A[i];
}
