using PgIg.Models;
using PgIg.Util;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Bench;

/// <summary>
/// Integrated gradients computed the way the original does it (spec §4.2, §5.4), as a timing reference:
/// autograd over parameters that require grad (so every backward also computes weight gradients),
/// one interpolation step per forward+backward pass over the batch, α = np.arange(1/m, 1, 1/m),
/// softmax output with a one-hot seed of 1, <c>model.zero_grad()</c> before each backward, and a
/// fresh input leaf per step. Results equal PgIg's faithful integrate_grad up to float rounding.
/// </summary>
public sealed class AutogradIntegratedGradients : IDisposable
{
    readonly SequentialNet _net;
    readonly Parameter?[] _weights;
    readonly Parameter?[] _biases;

    public AutogradIntegratedGradients(SequentialNet net)
    {
        _net = net;
        _weights = new Parameter?[net.Layers.Count];
        _biases = new Parameter?[net.Layers.Count];
        for (int i = 0; i < net.Layers.Count; i++)
        {
            if (net.Layers[i] is not WeightedLayer w) continue;
            // detached aliases share the storage (no second copy of the weights) while the engine's own
            // tensors keep requires_grad = false
            _weights[i] = new Parameter(w.Weight.detach(), requires_grad: true);
            _biases[i] = new Parameter(w.Bias.detach(), requires_grad: true);
        }
    }

    /// <summary>Forward+backward passes per image for <paramref name="steps"/>.</summary>
    public static long PassesPerImage(int steps) => NumpyCompat.Arange(1.0 / steps, 1.0, 1.0 / steps).Length;

    public Tensor Attribute(Tensor x, Tensor classes, int steps)
    {
        using var outer = torch.NewDisposeScope();
        using var gradMode = torch.enable_grad();
        var inpData = x.detach().clone();
        var grad = torch.zeros_like(inpData);
        foreach (double alpha in NumpyCompat.Arange(1.0 / steps, 1.0, 1.0 / steps))
        {
            using var scope = torch.NewDisposeScope();
            var inp = (inpData * alpha).detach().requires_grad_(true);
            var output = Forward(inp).softmax(-1);
            var seed = F.one_hot(classes, output.shape[1]).to(output.dtype);
            ZeroGrad();
            output.backward([seed]);
            grad.add_(inp.grad ?? throw new InvalidOperationException("autograd produced no input gradient"));
        }
        return (grad * inpData / steps).MoveToOuterDisposeScope();
    }

    Tensor Forward(Tensor x)
    {
        Tensor h = x;
        for (int i = 0; i < _net.Layers.Count; i++)
        {
            h = _net.Layers[i] switch
            {
                Conv2dLayer c => c.Convolve(h, _weights[i]!, _biases[i]!),
                LinearLayer => F.linear(h, _weights[i]!, _biases[i]!),
                ReluLayer => F.relu(h),
                MaxPool2dLayer or AvgPool2dLayer or FlattenLayer or IdentityLayer => SequentialNet.Apply(_net.Layers[i], h),
                var other => throw new NotSupportedException(other.Kind),
            };
        }
        return h;
    }

    /// <summary>PyTorch 1.x <c>Module.zero_grad()</c>: zero the existing parameter gradients in place.</summary>
    void ZeroGrad()
    {
        foreach (var p in _weights.Concat(_biases))
        {
            if (p is null) continue;
            using var g = p.grad;
            g?.zero_();
        }
    }

    public void Dispose()
    {
        foreach (var p in _weights.Concat(_biases)) p?.Dispose();
    }
}
