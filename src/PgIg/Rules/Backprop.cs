using PgIg.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Rules;

/// <summary>Value placed on the target output before the backward pass (spec §4.2, quirk B9).</summary>
public enum SeedMode { One, Probability }

/// <summary>Where the backward pass starts: the softmax output (original) or the logits.</summary>
public enum OutputHead { Softmax, Logit }

/// <summary>
/// Input-space backward pass of a <see cref="SequentialNet"/> under a <see cref="BackwardRule"/>.
/// Batches of any size are split into chunks bounded by a memory budget.
/// </summary>
public sealed class Backprop
{
    public SequentialNet Net { get; }
    public BackwardRule Rule { get; }
    public SeedMode Seed { get; }
    public OutputHead Head { get; }
    /// <summary>Examples per chunk within the memory budget.</summary>
    public long ChunkSize { get; }
    /// <summary>Examples per chunk on the CPU, where the budget is only an upper bound (see <see cref="CpuChunkBytes"/>).</summary>
    public long CpuChunkSize { get; }

    /// <summary>
    /// Largest chunk (in traced bytes) worth running on the CPU: larger chunks of a small net only add
    /// cache misses (docs/BENCHMARKS.md). Nets whose single example is larger (VGG16) keep the budget's
    /// chunks, which run faster the larger they are.
    /// </summary>
    public const long CpuChunkBytes = 64L << 20;
    /// <summary>Number of forward+backward passes run so far (one per example), for benchmarks.</summary>
    public long Passes { get; private set; }

    /// <summary>The quirks that shape every backward pass (B9 output head, B17 seed), part of every gradient method's key.</summary>
    public static IEnumerable<(string Name, bool Value)> KeyQuirks(PgIg.Config.Quirks q) =>
        [("backprop_from_softmax", q.BackpropFromSoftmax), ("probability_seed", q.ProbabilitySeedForPatternAndGuided)];

    public Backprop(SequentialNet net, BackwardRule rule, SeedMode seed, OutputHead head, long memoryBudgetBytes)
    {
        Net = net; Rule = rule; Seed = seed; Head = head;
        long perExample = Math.Max(1, net.TraceBytesPerExample());
        ChunkSize = Math.Max(1, memoryBudgetBytes / perExample);
        CpuChunkSize = perExample >= CpuChunkBytes ? ChunkSize : Math.Min(ChunkSize, CpuChunkBytes / perExample);
    }

    /// <summary>Backward at every row of <paramref name="inputs"/> (N×C×H×W) for classes (N, int64).</summary>
    public Tensor InputGradients(Tensor inputs, Tensor classes)
    {
        long n = inputs.shape[0];
        long chunk = inputs.device_type == DeviceType.CPU ? CpuChunkSize : ChunkSize;
        if (n <= chunk) return Chunk(inputs, classes);
        // equal-sized chunks: no needlessly small remainder (a lone example takes other conv kernels)
        long count = (n + chunk - 1) / chunk;
        var parts = new List<Tensor>();
        for (long i = 0, s = 0; i < count; i++)
        {
            long e = s + n / count + (i < n % count ? 1 : 0);
            parts.Add(Chunk(inputs[TensorIndex.Slice(s, e)], classes[TensorIndex.Slice(s, e)]));
            s = e;
        }
        return torch.cat(parts, 0);
    }

    /// <summary>Per-layer timing hook for profiles; null in normal runs.</summary>
    public ILayerTimer? Timer { get; set; }

    Tensor Chunk(Tensor x, Tensor classes)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var trace = Net.Trace(x, Timer);
        var g = OutputSeed(trace.Logits, classes, Seed, Head);
        var layers = Net.Layers;
        int wi = Net.WeightedLayers.Count - 1;
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            Tensor next;
            switch (layers[i])
            {
                case LinearLayer:
                    next = g.matmul(Rule.Kernel(wi--));
                    break;
                case Conv2dLayer { Stride: 1 } c:
                    next = F.conv_transpose2d(g, Rule.Kernel(wi--), padding: new[] { c.Padding, c.Padding });
                    break;
                case Conv2dLayer c:
                    next = F.conv_transpose2d(g, Rule.Kernel(wi--), strides: new[] { c.Stride, c.Stride }, padding: new[] { c.Padding, c.Padding },
                        output_padding: OutputPadding((long[])trace.Saved[i]!, g, c.KernelSize, c.Stride, c.Padding));
                    break;
                case AvgPool2dLayer a:
                    // each input element receives 1/k² of every window's gradient that covers it: a transposed
                    // convolution with a constant kernel, per channel
                    var inShape = (long[])trace.Saved[i]!;
                    var spread = torch.full(1, 1, a.KernelSize, a.KernelSize, 1.0 / (a.KernelSize * a.KernelSize), dtype: g.dtype, device: g.device);
                    next = F.conv_transpose2d(g.reshape(-1, 1, g.shape[2], g.shape[3]), spread, strides: new[] { a.Stride, a.Stride },
                        output_padding: OutputPadding(inShape, g, a.KernelSize, a.Stride, 0)).reshape(inShape);
                    break;
                case ReluLayer when trace.Saved[i] is PooledRelu:
                    next = g; // gated at the pool's resolution, see MaxPool2dLayer below
                    break;
                case ReluLayer:
                    var mask = (Tensor)trace.Saved[i]!;
                    next = Rule.ThroughRelu(g, mask);
                    mask.Dispose();
                    break;
                case MaxPool2dLayer pool:
                    // route each gradient to its window's argmax (flat index within the H×W plane)
                    var sw = (PoolSwitches)trace.Saved[i]!;
                    if (sw.ReluMask is { } pooledMask)
                    {
                        // the ReLU before this pool, applied to the pooled gradient: the gradient of a window
                        // lands only on its switch, whose ReLU output is the pooled value
                        g = Rule.ThroughRelu(g, pooledMask);
                        pooledMask.Dispose();
                    }
                    var s = sw.InputShape;
                    var routed = torch.zeros(s[0], s[1], s[2] * s[3], dtype: g.dtype, device: g.device);
                    // overlapping windows (kernel > stride) can share a switch, whose gradients then add up
                    next = (pool.KernelSize > pool.Stride
                        ? routed.scatter_add_(2, sw.Indices.flatten(2), g.flatten(2))
                        : routed.scatter_(2, sw.Indices.flatten(2), g.flatten(2))).reshape(s);
                    sw.Indices.Dispose();
                    break;
                case FlattenLayer:
                    next = g.reshape((long[])trace.Saved[i]!);
                    break;
                case IdentityLayer:
                    next = g;
                    break;
                default:
                    throw new NotSupportedException(layers[i].Kind);
            }
            // free each gradient and switch once used, as the forward does with activations
            if (!ReferenceEquals(next, g)) g.Dispose();
            g = next;
            Timer?.Backward(i);
        }
        Passes += x.shape[0];
        return g.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The rows and columns a strided window's transposed convolution must add so that it returns the forward
    /// input's size: floor mode drops the last (size + 2p − k) mod s of them in the forward.
    /// </summary>
    static long[] OutputPadding(long[] inShape, Tensor g, long kernel, long stride, long padding) =>
        [inShape[2] - ((g.shape[2] - 1) * stride - 2 * padding + kernel), inShape[3] - ((g.shape[3] - 1) * stride - 2 * padding + kernel)];

    /// <summary>
    /// Gradient at the logits. Softmax head with seed s on p_c: the softmax VJP s·p_c·(e_c − p)
    /// (spec §4.2); logit head: s·e_c where s is 1 or p_c.
    /// </summary>
    public static Tensor OutputSeed(Tensor logits, Tensor classes, SeedMode seed, OutputHead head)
    {
        var p = logits.softmax(-1);
        var onehot = F.one_hot(classes, logits.shape[1]).to(logits.dtype);
        var s = seed == SeedMode.Probability ? p.gather(1, classes.unsqueeze(1)) : torch.ones(classes.shape[0], 1, dtype: logits.dtype, device: logits.device);
        var g = s * onehot;
        if (head == OutputHead.Logit) return g;
        // same operation order as PyTorch's softmax backward: p ⊙ (g − Σ g⊙p)
        return p * (g - (g * p).sum(-1, keepdim: true));
    }
}
