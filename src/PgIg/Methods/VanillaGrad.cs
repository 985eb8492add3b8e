using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>
/// The rule's input gradient of the target output (spec §5.1). With the pattern rule this is
/// PatternAttribution (§5.2); with the guided rule, guided backprop (§5.5).
/// </summary>
public sealed class VanillaGrad(IGradientSource source, string kind = "vanilla_grad") : AttributionMethod
{
    public override string Kind => kind;
    public override long PassesPerImage => source.PassesPerInput;
    public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch) => source.ComputeOne(x, classes, 0, batch);
}
