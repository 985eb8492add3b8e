using System.Globalization;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Rules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Tests.Rules;

/// <summary>
/// Small random networks plus independent autograd references for the hand-written backward passes.
/// Layouts are space-separated tokens: convN (3×3, pad 1), convNkKpP, convNkKpPsS (stride S), relu, pool (2×2/2),
/// poolKsS (max-pool, kernel K, stride S), avgKsS (average pool), flatten, denseN.
/// </summary>
static class TinyNets
{
    public const long Large = 1L << 40;  // memory budget that never chunks
    public const long Tiny = 1;          // memory budget that forces chunks of one

    public static SequentialNet Build(string layout, long[] inputShape, long seed, ScalarType dtype = ScalarType.Float64, double biasScale = 0.1)
    {
        var gen = new Generator((ulong)seed);
        var layers = new List<Layer>();
        var shape = inputShape.ToArray();
        foreach (var tok in layout.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (tok.StartsWith("conv", StringComparison.Ordinal))
            {
                var parts = tok[4..].Split('k', 'p', 's');
                long o = long.Parse(parts[0], CultureInfo.InvariantCulture);
                long k = parts.Length > 1 ? long.Parse(parts[1], CultureInfo.InvariantCulture) : 3;
                long p = parts.Length > 2 ? long.Parse(parts[2], CultureInfo.InvariantCulture) : k / 2;
                long st = parts.Length > 3 ? long.Parse(parts[3], CultureInfo.InvariantCulture) : 1;
                var w = (torch.randn(new[] { o, shape[0], k, k }, dtype: dtype, generator: gen) * Math.Sqrt(2.0 / (shape[0] * k * k))).DetachFromDisposeScope();
                var b = (torch.randn(new[] { o }, dtype: dtype, generator: gen) * biasScale).DetachFromDisposeScope();
                var conv = new Conv2dLayer { Weight = w, Bias = b, Padding = p, Stride = st };
                layers.Add(conv);
                shape = [o, conv.OutputSize(shape[1]), conv.OutputSize(shape[2])];
            }
            else if (tok.StartsWith("pool", StringComparison.Ordinal) || tok.StartsWith("avg", StringComparison.Ordinal))
            {
                bool max = tok.StartsWith("pool", StringComparison.Ordinal);
                var parts = tok[(max ? 4 : 3)..].Split('s', StringSplitOptions.RemoveEmptyEntries);
                long k = parts.Length > 0 ? long.Parse(parts[0], CultureInfo.InvariantCulture) : 2;
                long st = parts.Length > 1 ? long.Parse(parts[1], CultureInfo.InvariantCulture) : k;
                Pool2dLayer pool = max ? new MaxPool2dLayer { KernelSize = k, Stride = st } : new AvgPool2dLayer { KernelSize = k, Stride = st };
                layers.Add(pool);
                shape = [shape[0], pool.OutputSize(shape[1]), pool.OutputSize(shape[2])];
            }
            else if (tok.StartsWith("dense", StringComparison.Ordinal))
            {
                long o = long.Parse(tok[5..], CultureInfo.InvariantCulture);
                var w = (torch.randn(new[] { o, shape[0] }, dtype: dtype, generator: gen) * Math.Sqrt(2.0 / shape[0])).DetachFromDisposeScope();
                var b = (torch.randn(new[] { o }, dtype: dtype, generator: gen) * biasScale).DetachFromDisposeScope();
                layers.Add(new LinearLayer { Weight = w, Bias = b });
                shape = [o];
            }
            else if (tok == "relu") layers.Add(new ReluLayer());
            else if (tok == "flatten") { layers.Add(new FlattenLayer()); shape = [shape.Aggregate(1L, (a, c) => a * c)]; }
            else throw new ArgumentException(tok);
        }
        return new SequentialNet(layers, inputShape);
    }

    public static Tensor Inputs(long n, long[] shape, long seed, ScalarType dtype = ScalarType.Float64, double scale = 1.0)
    {
        var gen = new Generator((ulong)seed);
        return (torch.randn(new[] { n }.Concat(shape).ToArray(), dtype: dtype, generator: gen) * scale).DetachFromDisposeScope();
    }

    /// <summary>Random patterns in [−1, 2), one per weighted layer.</summary>
    public static IReadOnlyList<Tensor> RandomPatterns(SequentialNet net, long seed)
    {
        var gen = new Generator((ulong)seed);
        return net.WeightedLayers.Select(l => (torch.rand(l.Weight.shape, dtype: l.Weight.dtype, generator: gen) * 3 - 1).DetachFromDisposeScope()).ToList();
    }

    /// <summary>a₊ patterns estimated on some random inputs (what a pipeline would use).</summary>
    public static PatternSet EstimatedPatterns(SequentialNet net, long seed)
    {
        using var est = new PatternEstimator(net);
        est.Add(Inputs(32, net.InputShape, seed, net.WeightedLayers[0].Weight.dtype));
        return est.Result();
    }

    public static Tensor Classes(params long[] c) => torch.tensor(c, ScalarType.Int64);

    /// <summary>ReLU masks (output &gt; 0) and max-pool argmax indices of a forward with the net's own weights.</summary>
    public static object?[] Switches(SequentialNet net, Tensor x)
    {
        using var _ = torch.no_grad();
        var saved = new object?[net.Layers.Count];
        Tensor h = x;
        for (int i = 0; i < net.Layers.Count; i++)
        {
            switch (net.Layers[i])
            {
                case ReluLayer: h = F.relu(h); saved[i] = h.gt(0).to(h.dtype); break;
                case MaxPool2dLayer m:
                    var (o, idx) = F.max_pool2d_with_indices(h, new[] { m.KernelSize, m.KernelSize }, new[] { m.Stride, m.Stride });
                    saved[i] = idx; h = o; break;
                default: h = Layer(net.Layers[i], h, null); break;
            }
        }
        return saved;
    }

    static Tensor Layer(Layer layer, Tensor h, Tensor? kernel) => layer switch
    {
        Conv2dLayer c => F.conv2d(h, kernel ?? c.Weight, c.Bias, strides: new[] { c.Stride, c.Stride }, padding: new[] { c.Padding, c.Padding }),
        LinearLayer l => F.linear(h, kernel ?? l.Weight, l.Bias),
        ReluLayer => F.relu(h),
        MaxPool2dLayer m => F.max_pool2d(h, new[] { m.KernelSize, m.KernelSize }, new[] { m.Stride, m.Stride }),
        AvgPool2dLayer a => F.avg_pool2d(h, new[] { a.KernelSize, a.KernelSize }, new[] { a.Stride, a.Stride }),
        FlattenLayer => h.flatten(1),
        _ => throw new NotSupportedException(layer.Kind),
    };

    /// <summary>
    /// Differentiable forward. With <paramref name="frozen"/>, each ReLU multiplies by a stored mask and each
    /// max-pool gathers at stored indices, so the switches are those of another forward pass.
    /// </summary>
    public static Tensor Forward(SequentialNet net, Tensor x, IReadOnlyList<Tensor>? kernels = null, object?[]? frozen = null)
    {
        Tensor h = x;
        int wi = 0;
        for (int i = 0; i < net.Layers.Count; i++)
        {
            var layer = net.Layers[i];
            if (frozen is not null && layer is ReluLayer) h = h * (Tensor)frozen[i]!;
            else if (frozen is not null && layer is MaxPool2dLayer)
            {
                var idx = (Tensor)frozen[i]!;
                h = h.flatten(2).gather(2, idx.flatten(2)).reshape(idx.shape);
            }
            else h = Layer(layer, h, layer is WeightedLayer ? kernels?[wi] : null);
            if (layer is WeightedLayer) wi++;
        }
        return h;
    }

    /// <summary>
    /// Scalar whose gradient w.r.t. the logits is the seeded backward start: Σ_b s_b·out_b[c_b] with out the
    /// softmax or the logits and s_b = 1 or p_c (held constant). When <paramref name="value"/> is given, the
    /// logits take its values (so softmax Jacobian and p_c come from it) while the gradient flows into <paramref name="logits"/>.
    /// </summary>
    public static Tensor Objective(Tensor logits, Tensor classes, SeedMode seed, OutputHead head, Tensor? value = null)
    {
        var z = value is null ? logits : value.detach() + (logits - logits.detach());
        var idx = classes.unsqueeze(1);
        var outp = head == OutputHead.Softmax ? z.softmax(-1) : z;
        var picked = outp.gather(1, idx);
        if (seed == SeedMode.Probability) picked = picked * z.detach().softmax(-1).gather(1, idx);
        return picked.sum();
    }

    /// <summary>Autograd input gradient; with kernels: backward through those kernels with the switches of the forward with W.</summary>
    public static Tensor AutogradInputGrad(SequentialNet net, Tensor x, Tensor classes, SeedMode seed, OutputHead head, IReadOnlyList<Tensor>? kernels = null)
    {
        var xr = x.detach().clone().requires_grad_(true);
        Tensor obj;
        if (kernels is null) obj = Objective(Forward(net, xr), classes, seed, head);
        else
        {
            Tensor value;
            using (torch.no_grad()) value = Forward(net, x);
            obj = Objective(Forward(net, xr, kernels, Switches(net, x)), classes, seed, head, value);
        }
        return torch.autograd.grad(new[] { obj }, new[] { xr })[0].detach();
    }

    /// <summary>Guided backprop reference: autograd VJPs layer by layer, ReLU replaced by g·[out &gt; 0]·[g &gt; 0].</summary>
    public static Tensor GuidedReference(SequentialNet net, Tensor x, Tensor classes, SeedMode seed, OutputHead head)
    {
        var ins = new List<Tensor>(); var outs = new List<Tensor>();
        Tensor h = x.detach();
        foreach (var layer in net.Layers)
        {
            var hin = h.detach().clone().requires_grad_(true);
            var hout = Layer(layer, hin, null);
            ins.Add(hin); outs.Add(hout); h = hout;
        }
        var z = h.detach().clone().requires_grad_(true);
        var g = torch.autograd.grad(new[] { Objective(z, classes, seed, head) }, new[] { z })[0];
        for (int i = net.Layers.Count - 1; i >= 0; i--)
        {
            if (net.Layers[i] is ReluLayer)
                g = g * outs[i].detach().gt(0).to(g.dtype) * g.gt(0).to(g.dtype);
            else
                g = torch.autograd.grad(new[] { outs[i] }, new[] { ins[i] }, new[] { g })[0];
        }
        return g.detach();
    }

    /// <summary>max |expected − actual| ≤ tol·max |expected|, and expected is not all zero.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double tol, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = MaxAbs(expected);
        Assert.True(scale > 0, $"{what}: reference is all zero");
        double err = (expected.to(ScalarType.Float64) - actual.to(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(err <= tol * scale, $"{what}: max abs error {err:G3} > {tol:G3}·{scale:G3}");
    }

    public static double MaxAbs(Tensor t) => t.abs().max().to(ScalarType.Float64).item<double>();
}
