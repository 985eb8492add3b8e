using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>x ⊙ gradient (spec §5.3), x in the model's preprocessed space.</summary>
public sealed class GradXInput(IGradientSource source) : AttributionMethod
{
    public static readonly MethodKind Declaration = new("grad_x_input", [], "input ⊙ gradient", b => new GradXInput(b.Gradient));

    public override string Kind => "grad_x_input";
    public override long PassesPerImage => source.PassesPerInput;
    public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch) => x * source.ComputeOne(x, classes, 0, batch);
}
