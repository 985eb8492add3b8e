using PgIg.Models;
using PgIg.Patterns;
using static TorchSharp.torch;

namespace PgIg.Rules;

/// <summary>
/// PatternAttribution's backward (Kindermans et al.): kernel W ⊙ A with the forward pass's own ReLU
/// masks and max-pool switches. W and W ⊙ A are separate tensors; the model is never modified
/// (unlike the original's in-place swap, quirk B10). W ⊙ A is built layer by layer as the patterns arrive, so
/// an owned stream of patterns costs one layer's A on top of the model and W ⊙ A.
/// </summary>
public sealed class PatternRule : BackwardRule
{
    readonly List<Tensor> _kernels = new();
    public override string Name => "pattern";
    public override bool UsesPatterns => true;
    public override bool OriginalSeedsWithProbability => true;

    public PatternRule(SequentialNet net, PatternStream patterns)
    {
        try
        {
            foreach (var a in patterns.Layers())
            {
                try
                {
                    int i = _kernels.Count;
                    PatternSet.CheckLayer(net, i, a);
                    _kernels.Add((net.WeightedLayers[i].Weight * a).DetachFromDisposeScope());
                }
                finally { if (patterns.Owned) a.Dispose(); }
            }
            PatternSet.CheckCount(net, _kernels.Count);
        }
        catch { Dispose(); throw; }
    }

    public override Tensor Kernel(int i) => _kernels[i];
    public override void Dispose() { foreach (var k in _kernels) k.Dispose(); _kernels.Clear(); }
}

/// <summary>PatternNet's backward (signal reconstruction): kernel A alone (kept, and disposed with the rule where the stream is owned).</summary>
public sealed class PatternNetRule : BackwardRule
{
    readonly PatternSet _patterns;
    readonly bool _owned;
    public override string Name => "patternnet";
    public override bool UsesPatterns => true;
    public override bool OriginalSeedsWithProbability => true;

    public PatternNetRule(SequentialNet net, PatternStream patterns)
    {
        _owned = patterns.Owned;
        _patterns = new PatternSet(patterns.Layers().ToList());
        try { _patterns.CheckMatches(net); }
        catch { Dispose(); throw; }
    }

    public override Tensor Kernel(int i) => _patterns.A[i];
    public override void Dispose() { if (_owned) _patterns.Dispose(); }
}
