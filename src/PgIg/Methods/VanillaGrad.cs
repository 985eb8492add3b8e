using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>
/// The rule's input gradient of the target output (spec §5.1). With the pattern rule this is
/// PatternAttribution (§5.2); with the guided rule, guided backprop (§5.5).
/// </summary>
public sealed class VanillaGrad(IGradientSource source, string kind = "vanilla_grad") : AttributionMethod
{
    public static readonly MethodKind Declaration = new("vanilla_grad", [], "input gradient of the target output", b => new VanillaGrad(b.Gradient));

    /// <summary>Guided backprop: the same gradient through guided ReLUs around any rule, seeded with p_c by the original (B17).</summary>
    public static readonly MethodKind Guided = new("guided_backprop", [], "gradient with guided ReLUs (only positive gradients pass)",
        b => new VanillaGrad(b.Gradient, "guided_backprop"))
    {
        WrapRule = rule => new PgIg.Rules.GuidedRule(rule), ProbabilitySeedInOriginal = true,
    };

    public override string Kind => kind;
    public override long PassesPerImage => source.PassesPerInput;
    public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch) => source.ComputeOne(x, classes, 0, batch);
}
