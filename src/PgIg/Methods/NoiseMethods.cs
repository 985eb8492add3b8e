using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>A method that is a noise tunnel around the rule's gradient (smooth_grad, smooth_grad2, var_grad).</summary>
public sealed class NoiseTunnelMethod(string kind, NoiseTunnel tunnel) : AttributionMethod
{
    static MethodKind Declare(string name, string doc, NoiseReduction reduction) =>
        new(name, [ParamSpec.Spread, ParamSpec.Samples(25)], doc, b => new NoiseTunnelMethod(name, b.Tunnel(reduction)))
        { OwnQuirks = NoiseTunnel.KeyQuirks, BatchCoupled = NoiseTunnel.BatchCoupled };

    public static readonly MethodKind SmoothGrad = Declare("smooth_grad", "SmoothGrad: mean gradient under input noise", NoiseReduction.Mean);
    public static readonly MethodKind SmoothGrad2 = Declare("smooth_grad2", "SmoothGrad²: mean squared gradient under input noise", NoiseReduction.MeanOfSquares);
    public static readonly MethodKind VarGrad = Declare("var_grad", "VarGrad: variance of the gradient under input noise", NoiseReduction.Variance);

    public override string Kind => kind;
    public override long PassesPerImage => tunnel.PassesPerInput;
    public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch) => tunnel.ComputeOne(x, classes, 0, batch);
}
