using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>A method that is a noise tunnel around the rule's gradient (smooth_grad, smooth_grad2, var_grad).</summary>
public sealed class NoiseTunnelMethod(string kind, NoiseTunnel tunnel) : AttributionMethod
{
    public override string Kind => kind;
    public override long PassesPerImage => tunnel.PassesPerInput;
    public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch) => tunnel.ComputeOne(x, classes, 0, batch);
}
