using PgIg.Config;
using PgIg.Formats;
using PgIg.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Models;

/// <summary>
/// <c>model.architecture: custom</c>: a plain feed-forward CNN described by <c>model.layers</c>. <see cref="CheckGeometry"/>
/// checks the list against the input size when the config is read; <see cref="Import"/> takes its weights from a state_dict
/// by parameter name, checking every shape and folding each batch norm into the conv or linear layer before it;
/// <see cref="Build"/> makes the network from the imported rows. Dropout is dropped (eval mode) and an adaptive average
/// pool becomes the fixed average pool it equals at this input size.
/// </summary>
public static class CustomArchitecture
{
    /// <summary>Batch-norm's step counter: training state that eval mode does not read.</summary>
    const string BatchCounter = ".num_batches_tracked";

    /// <summary>The spatial effect of one layer at this input size: a pool's window (adaptive ones resolved), or none.</summary>
    sealed record Step(LayerConfig Layer, bool FlatIn, long H, long W, long PoolKernel, long PoolStride);

    /// <summary>Checks that every layer fits the map it gets; errors name the layer's place in the config.</summary>
    public static void CheckGeometry(CustomModelConfig c) => Walk(c);

    static List<Step> Walk(CustomModelConfig c)
    {
        long h = c.Input.Height, w = c.Input.Width;
        bool flat = false;
        var steps = new List<Step>();
        LayerConfig? previous = null;
        foreach (var l in c.Layers)
        {
            ConfigException Error(string message) => new($"{l.Where}: {l.Label}: {message}");
            long poolKernel = 0, poolStride = 0;
            bool flatIn = flat;
            if (l.Type is LayerConfig.Conv or LayerConfig.MaxPool or LayerConfig.AvgPool or LayerConfig.AdaptiveAvgPool && flat)
                throw Error("comes after the map was flattened; spatial layers must come before 'flatten'");
            switch (l.Type)
            {
                case LayerConfig.Conv:
                    long oh = (h + 2 * l.Padding - l.Kernel) / l.Stride + 1, ow = (w + 2 * l.Padding - l.Kernel) / l.Stride + 1;
                    if (h + 2 * l.Padding < l.Kernel || w + 2 * l.Padding < l.Kernel)
                        throw Error($"a {l.Kernel}×{l.Kernel} kernel with padding {l.Padding} does not fit the {h}×{w} map it gets (model.input.size {c.Input.Height}×{c.Input.Width})");
                    (h, w) = (oh, ow);
                    break;
                case LayerConfig.MaxPool or LayerConfig.AvgPool:
                    if (l.Kernel > h || l.Kernel > w)
                        throw Error($"a {l.Kernel}×{l.Kernel} window does not fit the {h}×{w} map it gets (model.input.size {c.Input.Height}×{c.Input.Width})");
                    (poolKernel, poolStride) = (l.Kernel, l.Stride);
                    (h, w) = ((h - l.Kernel) / l.Stride + 1, (w - l.Kernel) / l.Stride + 1);
                    break;
                case LayerConfig.AdaptiveAvgPool:
                    long sh = l.Size[0], sw = l.Size[1];
                    // PyTorch's adaptive windows are all alike only when the output divides the input; PgIg's pools are square
                    if (h % sh != 0 || w % sw != 0 || h / sh != w / sw)
                        throw Error($"pools the {h}×{w} map it gets to {sh}×{sw}, which takes windows of unequal or non-square size; PgIg supports it where it equals a " +
                            $"square average pool ({h}×{w} → {sh}×{sw} needs {h}/{sh} = {w}/{sw}, whole numbers); change model.input.size or the pool's size");
                    if (h != sh) (poolKernel, poolStride) = (h / sh, h / sh);
                    (h, w) = (sh, sw);
                    break;
                case LayerConfig.Flatten:
                    flat = true;
                    break;
                case LayerConfig.Linear when !flat:
                    throw Error($"gets a {h}×{w} map per channel; add '- flatten' before it (where the PyTorch model's forward flattens)");
                case LayerConfig.BatchNorm when previous?.Type is not (LayerConfig.Conv or LayerConfig.Linear):
                    throw Error("must directly follow the conv or linear layer it normalises: PgIg folds it into that layer's weights");
            }
            steps.Add(new Step(l, flatIn, h, w, poolKernel, poolStride));
            previous = l;
        }
        var lastWeighted = c.Layers.LastOrDefault(l => l.Type is LayerConfig.Conv or LayerConfig.Linear);
        if (!flat || lastWeighted?.Type != LayerConfig.Linear)
            throw new ConfigException($"{(c.Layers.Count > 0 ? c.Layers[^1].Where : c.Where)}: model.layers must end with the linear layer that gives the class logits (after a flatten)");
        return steps;
    }

    /// <summary>What <see cref="Import"/> made of a weights file.</summary>
    public sealed record Imported(List<TensorRow> Rows, int FoldedBatchNorms, long Parameters, long Classes, IReadOnlyList<long> Widths);

    /// <summary>
    /// The conv and linear weights the layer list names, as rows W_i / b_i (index 2i / 2i + 1, PyTorch layout), batch norms
    /// folded in: W' = W·γ/√(σ² + ε) per output unit, b' = (b − μ)·γ/√(σ² + ε) + β. Every parameter of the file must be used.
    /// </summary>
    public static Imported Import(CustomModelConfig c, StateDict dict)
    {
        var steps = Walk(c);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var weights = new List<(double[] W, long[] Shape, double[] B, LayerConfig Layer)>();
        long channels = InputConfig.ChannelCount, features = 0;
        int folded = 0;
        foreach (var step in steps)
        {
            var l = step.Layer;
            switch (l.Type)
            {
                case LayerConfig.Conv:
                {
                    var w = Take(dict, l, "weight", used);
                    long outC = l.Out ?? (w.Shape.Length == 4 ? w.Shape[0] : -1);
                    Expect(dict, l, "weight", w, [outC, channels, l.Kernel, l.Kernel],
                        $"(out, in, kernel, kernel): in = the {channels} {(weights.Count == 0 ? "input channels" : "channels of the layer before")}, kernel {l.Kernel}");
                    weights.Add((ToDouble(w.Values), w.Shape, Bias(dict, l, outC, used), l));
                    channels = outC;
                    break;
                }
                case LayerConfig.Linear:
                {
                    if (!step.FlatIn) throw new InvalidOperationException("geometry check missed a linear layer on a map");
                    var w = Take(dict, l, "weight", used);
                    long inF = features, outF = l.Out ?? (w.Shape.Length == 2 ? w.Shape[0] : -1);
                    Expect(dict, l, "weight", w, [outF, inF],
                        $"(out, in): in = {(weights.LastOrDefault().Layer?.Type == LayerConfig.Linear ? "the outputs of the linear layer before" : $"the flattened map, {channels} channels × {FlatWhere(steps, step)}")}");
                    weights.Add((ToDouble(w.Values), w.Shape, Bias(dict, l, outF, used), l));
                    features = outF;
                    break;
                }
                case LayerConfig.BatchNorm:
                {
                    var (w, shape, b, owner) = weights[^1];
                    long n = shape[0];
                    double[] Vector(string p)
                    {
                        var t = Take(dict, l, p, used);
                        Expect(dict, l, p, t, [n], $"one value per output of {owner.Label}");
                        return ToDouble(t.Values);
                    }
                    double[] gamma = Vector("weight"), beta = Vector("bias"), mean = Vector("running_mean"), variance = Vector("running_var");
                    used.Add(l.Name + BatchCounter);
                    FoldBatchNorm(w, b, gamma, beta, mean, variance, l.Eps);
                    folded++;
                    break;
                }
                case LayerConfig.Flatten when !step.FlatIn:
                    features = channels * step.H * step.W;
                    break;
            }
        }
        var unused = dict.Tensors.Keys.Where(k => !used.Contains(k) && !k.EndsWith(BatchCounter, StringComparison.Ordinal)).ToList();
        if (unused.Count > 0)
            throw new ConfigException($"{c.Where}: model.layers does not use {unused.Count} parameter(s) of {dict.File}: {string.Join(", ", unused.Take(8))}{(unused.Count > 8 ? ", …" : "")}; " +
                "add the layers they belong to (each conv, linear and batch_norm by its state_dict name)");

        var rows = new List<TensorRow>();
        for (int i = 0; i < weights.Count; i++)
        {
            var (w, shape, b, _) = weights[i];
            rows.Add(new TensorRow { Index = 2 * i, Name = $"W_{i}", Shape = shape, Values = Float32.ToBytes(w.Select(v => (float)v).ToArray()) });
            rows.Add(new TensorRow { Index = 2 * i + 1, Name = $"b_{i}", Shape = [shape[0]], Values = Float32.ToBytes(b.Select(v => (float)v).ToArray()) });
        }
        return new Imported(rows, folded, weights.Sum(x => x.W.LongLength + x.B.LongLength), weights[^1].Shape[0], weights.Select(x => x.Shape[0]).ToList());
    }

    /// <summary>Folds a batch norm into the layer before it, in place: W' = W·γ/√(σ² + ε) per output unit, b' = (b − μ)·γ/√(σ² + ε) + β.</summary>
    public static void FoldBatchNorm(double[] w, double[] b, double[] gamma, double[] beta, double[] mean, double[] variance, double eps)
    {
        long n = b.Length, per = w.Length / n;
        for (long o = 0; o < n; o++)
        {
            double s = gamma[o] / Math.Sqrt(variance[o] + eps);
            for (long k = 0; k < per; k++) w[o * per + k] *= s;
            b[o] = (b[o] - mean[o]) * s + beta[o];
        }
    }

    /// <summary>"H×W positions" of the map at the flatten before <paramref name="linear"/>.</summary>
    static string FlatWhere(List<Step> steps, Step linear)
    {
        var flatten = steps.Take(steps.IndexOf(linear)).Last(s => s.Layer.Type == LayerConfig.Flatten && !s.FlatIn);
        return $"{flatten.H}×{flatten.W} positions";
    }

    static double[] ToDouble(float[] v) => v.Select(x => (double)x).ToArray();

    static NamedTensor Take(StateDict dict, LayerConfig l, string param, HashSet<string> used)
    {
        string key = $"{l.Name}.{param}";
        if (dict.Tensors.TryGetValue(key, out var t))
        {
            used.Add(key);
            return t;
        }
        throw new ConfigException($"{l.Where}: {l.Label}: parameter '{key}' is not in {dict.File}{Hint(dict, key)}");
    }

    /// <summary>A did-you-mean, or the common case of names saved from nn.DataParallel ("module." in front).</summary>
    static string Hint(StateDict dict, string key)
    {
        var withPrefix = dict.Tensors.Keys.FirstOrDefault(k => k.EndsWith("." + key, StringComparison.Ordinal));
        if (withPrefix is not null)
        {
            string param = key[(key.LastIndexOf('.') + 1)..];
            return $"; it has '{withPrefix}': give the layer its full name, '{withPrefix[..^(param.Length + 1)]}'";
        }
        string names = string.Join(", ", dict.Tensors.Keys.Where(k => !k.EndsWith(BatchCounter, StringComparison.Ordinal)).Take(12));
        return $"{Suggest.DidYouMean(key, dict.Tensors.Keys)}; its parameters: {names}{(dict.Tensors.Count > 12 ? ", …" : "")}";
    }

    static double[] Bias(StateDict dict, LayerConfig l, long outputs, HashSet<string> used)
    {
        string key = $"{l.Name}.bias";
        if (!l.Bias)
        {
            if (dict.Tensors.ContainsKey(key))
                throw new ConfigException($"{l.Where}: {l.Label}: says bias: false, but {dict.File} has '{key}'; remove bias: false");
            return new double[outputs];
        }
        if (!dict.Tensors.ContainsKey(key))
            throw new ConfigException($"{l.Where}: {l.Label}: parameter '{key}' is not in {dict.File}; if the layer has no bias (bias=False in PyTorch), write bias: false");
        var b = Take(dict, l, "bias", used);
        Expect(dict, l, "bias", b, [outputs], "one value per output");
        return ToDouble(b.Values);
    }

    /// <summary>Fails unless <paramref name="t"/> has <paramref name="expected"/> (−1: any size).</summary>
    static void Expect(StateDict dict, LayerConfig l, string param, NamedTensor t, long[] expected, string meaning)
    {
        bool ok = t.Shape.Length == expected.Length && t.Shape.Zip(expected).All(p => p.Second < 0 || p.First == p.Second);
        if (!ok)
            throw new ConfigException($"{l.Where}: {l.Label}: parameter '{l.Name}.{param}' in {dict.File} has shape {NpyHeader.FormatShape(t.Shape)}, " +
                $"expected {Format(expected)} {meaning}");
    }

    static string Format(long[] shape) => "(" + string.Join(", ", shape.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ")";

    /// <summary>The network from the imported weights and biases (model.parquet's W_i, b_i in order); it takes them over.</summary>
    public static SequentialNet Build(CustomModelConfig c, IReadOnlyList<Tensor> ws, IReadOnlyList<Tensor> bs)
    {
        int expected = c.Layers.Count(l => l.Type is LayerConfig.Conv or LayerConfig.Linear);
        if (ws.Count != expected || bs.Count != expected)
            throw new InvalidDataException($"the model artifact holds {ws.Count} weights and {bs.Count} biases, model.layers names {expected} conv/linear layers; rerun Fetch");
        var layers = new List<Layer>();
        int wi = 0;
        foreach (var step in Walk(c))
        {
            var l = step.Layer;
            switch (l.Type)
            {
                case LayerConfig.Conv:
                    layers.Add(new Conv2dLayer { Weight = ws[wi], Bias = bs[wi], Padding = l.Padding, Stride = l.Stride });
                    wi++;
                    break;
                case LayerConfig.Linear:
                    layers.Add(new LinearLayer { Weight = ws[wi], Bias = bs[wi] });
                    wi++;
                    break;
                case LayerConfig.Relu: layers.Add(new ReluLayer()); break;
                case LayerConfig.MaxPool: layers.Add(new MaxPool2dLayer { KernelSize = step.PoolKernel, Stride = step.PoolStride }); break;
                case LayerConfig.AvgPool or LayerConfig.AdaptiveAvgPool when step.PoolKernel > 0:
                    layers.Add(new AvgPool2dLayer { KernelSize = step.PoolKernel, Stride = step.PoolStride });
                    break;
                case LayerConfig.Flatten when !step.FlatIn: layers.Add(new FlattenLayer()); break;
                // batch norms are folded into the weights; dropout, an identity adaptive pool and a second flatten do nothing
            }
        }
        foreach (var w in layers.OfType<WeightedLayer>()) { w.Weight.requires_grad = false; w.Bias.requires_grad = false; }
        return new SequentialNet(layers, c.InputShape);
    }
}
