using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Models;

/// <summary>
/// A feed-forward ReLU network as an explicit layer list. The forward pass can record what a
/// hand-written backward pass needs (ReLU masks, max-pool switches, shapes), so backward rules
/// (gradient, guided, pattern) are computed without autograd and without touching parameters.
/// </summary>
public sealed class SequentialNet : IDisposable
{
    public IReadOnlyList<Layer> Layers { get; }
    public IReadOnlyList<WeightedLayer> WeightedLayers { get; }
    /// <summary>Input shape of one example (C, H, W).</summary>
    public long[] InputShape { get; }
    public long NumClasses => WeightedLayers[^1].OutFeatures;

    public SequentialNet(IReadOnlyList<Layer> layers, long[] inputShape)
    {
        Layers = layers;
        WeightedLayers = layers.OfType<WeightedLayer>().ToList();
        InputShape = inputShape;
    }

    /// <summary>A copy of the network with its weights on <paramref name="device"/> (this one unless it is the CPU).</summary>
    public SequentialNet To(Device device)
    {
        if (device.type == DeviceType.CPU) return this;
        var layers = Layers.Select(l => l switch
        {
            Conv2dLayer c => new Conv2dLayer { Weight = c.Weight.to(device).DetachFromDisposeScope(), Bias = c.Bias.to(device).DetachFromDisposeScope(), Padding = c.Padding, Stride = c.Stride },
            LinearLayer d => (Layer)new LinearLayer { Weight = d.Weight.to(device).DetachFromDisposeScope(), Bias = d.Bias.to(device).DetachFromDisposeScope() },
            _ => l,
        }).ToList();
        return new SequentialNet(layers, InputShape);
    }

    /// <summary>Logits, no gradient tracking.</summary>
    public Tensor Forward(Tensor x)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Tensor h = x;
        foreach (var layer in Layers) h = Apply(layer, h);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Softmax probabilities, no gradient tracking.</summary>
    public Tensor Probabilities(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        return Forward(x).softmax(-1).MoveToOuterDisposeScope();
    }

    internal static Tensor Apply(Layer layer, Tensor h) => layer switch
    {
        Conv2dLayer c => c.Convolve(h, c.Weight, c.Bias),
        LinearLayer l => F.linear(h, l.Weight, l.Bias),
        ReluLayer => F.relu(h),
        MaxPool2dLayer m => F.max_pool2d(h, new[] { m.KernelSize, m.KernelSize }, new[] { m.Stride, m.Stride }),
        AvgPool2dLayer a => F.avg_pool2d(h, new[] { a.KernelSize, a.KernelSize }, new[] { a.Stride, a.Stride }),
        FlattenLayer => h.flatten(1),
        IdentityLayer => h,
        _ => throw new NotSupportedException(layer.Kind),
    };

    /// <summary>
    /// Forward pass that keeps, per layer, what the backward needs. The caller owns the returned trace
    /// (its tensors live in the caller's dispose scope). Layer outputs are freed as soon as the next
    /// layer has used them, so only masks, switches and the logits stay alive.
    /// A ReLU directly followed by a max-pool is applied after the pool, on the 4× smaller pooled map:
    /// max and ReLU commute, so the values are the same, and the switches agree wherever the pooled
    /// value is positive. Where it is not, the mask zeroes that window's gradient in either order. This
    /// saves a full-resolution ReLU, mask and mask multiply per pool and three quarters of the mask memory.
    /// </summary>
    public ForwardTrace Trace(Tensor x, ILayerTimer? timer = null)
    {
        using var _ = torch.no_grad();
        var saved = new object?[Layers.Count];
        Tensor h = x;
        for (int i = 0; i < Layers.Count; i++)
        {
            var layer = Layers[i];
            Tensor next;
            switch (layer)
            {
                case ReluLayer when ReluBeforePool(i):
                    next = h;                     // applied by the pool (PooledRelu)
                    saved[i] = PooledRelu.Instance;
                    break;
                case ReluLayer:
                    // in place on a layer output (never on the caller's x): same values, no second buffer
                    next = ReferenceEquals(h, x) ? F.relu(h) : h.relu_();
                    saved[i] = next.gt(0); // PyTorch's ReLU backward gates on output > 0
                    break;
                case MaxPool2dLayer m:
                    var inShape = h.shape;
                    var (o, idx) = F.max_pool2d_with_indices(h, new[] { m.KernelSize, m.KernelSize }, new[] { m.Stride, m.Stride });
                    Tensor? mask = null;
                    if (i > 0 && saved[i - 1] is PooledRelu)
                    {
                        o.relu_();
                        mask = o.gt(0);
                    }
                    saved[i] = new PoolSwitches(idx, inShape, mask);
                    next = o;
                    break;
                case FlattenLayer:
                    saved[i] = h.shape;
                    next = h.flatten(1);
                    break;
                case Conv2dLayer { Stride: > 1 }:
                case AvgPool2dLayer:
                    saved[i] = h.shape;   // the backward's output size, which a strided window leaves ambiguous
                    next = Apply(layer, h);
                    break;
                default:
                    next = Apply(layer, h);
                    break;
            }
            // a dispose scope would keep every layer output until the backward is done (about 3× the memory)
            if (!ReferenceEquals(h, x) && !ReferenceEquals(h, next)) h.Dispose();
            h = next;
            timer?.Forward(i);
        }
        return new ForwardTrace(h, saved);
    }

    /// <summary>A ReLU on a layer output (not on the input itself) that feeds a max-pool of disjoint windows directly.
    /// Overlapping windows sum several gradients at one switch, and guided backprop must gate the sum, not each part.</summary>
    bool ReluBeforePool(int i) => i > 0 && i + 1 < Layers.Count && Layers[i + 1] is MaxPool2dLayer m && m.KernelSize <= m.Stride;

    /// <summary>
    /// Bytes one example keeps alive in a traced forward + backward (for chunking): its ReLU masks (1 byte
    /// per element, at the pooled size for a ReLU before a pool) and max-pool switches (8), plus four
    /// float32 buffers of the largest layer output (a layer's input and output in the forward; gradient in,
    /// gradient out and the unpooling buffer in the backward), all with 50% slack for the allocator.
    /// VGG16 at 225²: about 110 MB (117 MB before ReLUs moved behind pools, then 1.3× the peak RSS growth
    /// per example measured with `pgig bench`).
    /// </summary>
    public long TraceBytesPerExample()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var shape = new long[] { 1 }.Concat(InputShape).ToArray();
        Tensor h = torch.zeros(shape, dtype: WeightedLayers[0].Weight.dtype, device: WeightedLayers[0].Weight.device);
        long saved = 0, largest = h.numel();
        for (int i = 0; i < Layers.Count; i++)
        {
            h = Apply(Layers[i], h);
            if (Layers[i] is ReluLayer && !ReluBeforePool(i)) saved += h.numel();
            else if (Layers[i] is MaxPool2dLayer) saved += h.numel() * (i > 0 && ReluBeforePool(i - 1) ? 9 : 8);
            largest = Math.Max(largest, h.numel());
        }
        return (saved + 4 * largest * 4) * 3 / 2;
    }

    /// <summary>
    /// Bytes one example keeps alive in a plain forward (for chunking untraced passes such as degradation steps):
    /// its input plus the input and output of the largest layer, float32, times 4 for oneDNN's blocked-layout
    /// copies of them (VGG16 at 225²: 26 MB raw; peak RSS grew by 111 MB per image of a batch-8 forward,
    /// measured with /usr/bin/time on `pgig run Predict`). Sized from the layers' real outputs: VGG16's first
    /// activations are 21× its input.
    /// </summary>
    public long ForwardBytesPerExample() => _forwardBytesPerExample ??= MeasureForwardBytesPerExample();

    /// <summary>The layers do not change, so the sizing forward runs once per network, not once per degradation batch.</summary>
    long? _forwardBytesPerExample;

    long MeasureForwardBytesPerExample()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var shape = new long[] { 1 }.Concat(InputShape).ToArray();
        Tensor h = torch.zeros(shape, dtype: WeightedLayers[0].Weight.dtype, device: WeightedLayers[0].Weight.device);
        long input = h.numel(), largest = 0, previous = h.numel();
        foreach (var layer in Layers)
        {
            h = Apply(layer, h);
            largest = Math.Max(largest, previous + h.numel());
            previous = h.numel();
        }
        return (input + largest) * 4 * 4;
    }

    public void Dispose()
    {
        foreach (var w in WeightedLayers) { w.Weight.Dispose(); w.Bias.Dispose(); }
    }
}

/// <param name="ReluMask">For a ReLU moved behind the pool: [pooled output &gt; 0]; null otherwise.</param>
public sealed record PoolSwitches(Tensor Indices, long[] InputShape, Tensor? ReluMask = null);

/// <summary>Marks a ReLU that the following max-pool applies (see <see cref="SequentialNet.Trace"/>).</summary>
public sealed class PooledRelu
{
    public static readonly PooledRelu Instance = new();
    PooledRelu() { }
}

/// <summary>Called after each layer of a traced pass, for per-layer profiles (<c>pgig bench --profile</c>).</summary>
public interface ILayerTimer
{
    void Forward(int layer);
    void Backward(int layer);
}

/// <summary>Logits plus the per-layer switches of one forward pass.</summary>
public sealed record ForwardTrace(Tensor Logits, object?[] Saved);
