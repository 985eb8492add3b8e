using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Models;

/// <summary>Layer layouts of the supported networks. Weights come from training, a model artifact or an npz.</summary>
public static class Architectures
{
    /// <summary>Conv/dense weight shapes in order (PyTorch layout), which fully define these plain networks.</summary>
    public sealed record Spec(string Name, long[] InputShape, IReadOnlyList<string> Layout, IReadOnlyList<long[]> WeightShapes);

    /// <summary>
    /// The Fashion-MNIST CNN: VGG-style 3×3 conv + ReLU blocks with max-pool, then dense + ReLU and dense
    /// logits; no batch-norm, so patterns apply as in VGG16. Widths 8-8-16-16 keep a forward pass at
    /// 1.3 M multiply-adds, so the full 12-method run (≈ 780 passes per image, sg_ig alone 600) fits a
    /// 2-core CPU; it reaches 88.9% test accuracy after 3 epochs (config/fashion-mnist.yaml).
    /// </summary>
    public static Spec FashionCnn { get; } = new("fashion-cnn", [1, 28, 28],
        ["conv", "relu", "conv", "relu", "pool", "conv", "relu", "conv", "relu", "pool", "flatten", "dense", "relu", "dense"],
        [[8, 1, 3, 3], [8, 8, 3, 3], [16, 8, 3, 3], [16, 16, 3, 3], [128, 16 * 7 * 7], [10, 128]]);

    /// <summary>The 13 conv + 3 dense layer sequence of VGG16 ("D"); dropout and avgpool(7,7) are identities.</summary>
    public static readonly IReadOnlyList<string> Vgg16Layout =
        ["conv", "relu", "conv", "relu", "pool",
         "conv", "relu", "conv", "relu", "pool",
         "conv", "relu", "conv", "relu", "conv", "relu", "pool",
         "conv", "relu", "conv", "relu", "conv", "relu", "pool",
         "conv", "relu", "conv", "relu", "conv", "relu", "pool",
         "flatten", "dense", "relu", "dense", "relu", "dense"];

    /// <summary>Conv output widths of torchvision VGG16.</summary>
    public static readonly IReadOnlyList<long> Vgg16ConvWidths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512];

    /// <summary>torchvision VGG16 ("D") at 225×225 input (spec §2.1).</summary>
    public static Spec Vgg16 { get; } = Vgg16With(Vgg16ConvWidths, 4096, 4096, 1000);

    /// <summary>
    /// The VGG16 layer sequence with any widths (e.g. a narrow test model): 3×3 convs, five 2×2 pools,
    /// so fc6 takes last-conv-width × s × s inputs with s = inputSize halved five times (7 at 224–239).
    /// </summary>
    public static Spec Vgg16With(IReadOnlyList<long> convWidths, long fc6, long fc7, long classes, long inputChannels = 3, long inputSize = 225)
    {
        if (convWidths.Count != 13) throw new ArgumentException($"VGG16 has 13 conv layers, got {convWidths.Count} widths", nameof(convWidths));
        if (convWidths.Append(fc6).Append(fc7).Append(classes).Append(inputChannels).Any(w => w < 1))
            throw new ArgumentException("VGG16 layer widths must be positive");
        long spatial = inputSize;
        for (int i = 0; i < 5; i++) spatial /= 2; // floor-mode max-pools
        if (spatial < 1) throw new ArgumentException($"input size {inputSize} is too small for five 2×2 max-pools", nameof(inputSize));
        var shapes = new List<long[]>();
        long prev = inputChannels;
        foreach (var w in convWidths) { shapes.Add([w, prev, 3, 3]); prev = w; }
        shapes.Add([fc6, prev * spatial * spatial]);
        shapes.Add([fc7, fc6]);
        shapes.Add([classes, fc7]);
        return new Spec("vgg16", [inputChannels, inputSize, inputSize], Vgg16Layout, shapes);
    }

    /// <summary>The VGG16 spec whose widths are read off 16 weight shapes (PyTorch layout); <see cref="Build"/> then checks consistency.</summary>
    public static Spec Vgg16FromWeightShapes(IReadOnlyList<long[]> shapes, long inputSize = 225)
    {
        if (shapes.Count != 16) throw new InvalidDataException($"VGG16 has 16 conv/dense weights, got {shapes.Count}");
        if (shapes.Take(13).Any(s => s.Length != 4) || shapes.Skip(13).Any(s => s.Length != 2))
            throw new InvalidDataException("VGG16 needs 13 4-D conv weights followed by 3 2-D dense weights");
        return Vgg16With(shapes.Take(13).Select(s => s[0]).ToArray(), shapes[13][0], shapes[14][0], shapes[15][0], shapes[0][1], inputSize);
    }

    public static Spec ByName(string name) => name switch
    {
        "fashion-cnn" => FashionCnn,
        "vgg16" => Vgg16,
        _ => throw new ArgumentException($"unknown architecture '{name}'; valid: fashion-cnn, vgg16"),
    };

    /// <summary>Builds the network from weights and biases given in conv/dense order.</summary>
    public static SequentialNet Build(Spec spec, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> biases, long[]? inputShape = null)
    {
        if (weights.Count != spec.WeightShapes.Count || biases.Count != spec.WeightShapes.Count)
            throw new InvalidDataException($"{spec.Name} has {spec.WeightShapes.Count} conv/dense layers, got {weights.Count} weights and {biases.Count} biases");
        var layers = new List<Layer>();
        int wi = 0;
        foreach (var kind in spec.Layout)
        {
            switch (kind)
            {
                case "conv":
                case "dense":
                    var w = weights[wi]; var b = biases[wi];
                    if (!w.shape.SequenceEqual(spec.WeightShapes[wi]) && spec.Name != "custom")
                        throw new InvalidDataException($"{spec.Name} layer {wi}: weight shape ({string.Join(", ", w.shape)}), expected ({string.Join(", ", spec.WeightShapes[wi])})");
                    if (b.shape.Length != 1 || b.shape[0] != w.shape[0])
                        throw new InvalidDataException($"{spec.Name} layer {wi}: bias shape ({string.Join(", ", b.shape)}), expected ({w.shape[0]})");
                    w.requires_grad = false; b.requires_grad = false;
                    layers.Add(kind == "conv"
                        ? new Conv2dLayer { Weight = w, Bias = b, Padding = w.shape[2] / 2 }
                        : new LinearLayer { Weight = w, Bias = b });
                    wi++;
                    break;
                case "relu": layers.Add(new ReluLayer()); break;
                case "pool": layers.Add(new MaxPool2dLayer { KernelSize = 2, Stride = 2 }); break;
                case "flatten": layers.Add(new FlattenLayer()); break;
                default: throw new InvalidDataException($"unknown layer kind {kind}");
            }
        }
        return new SequentialNet(layers, inputShape ?? spec.InputShape);
    }

    /// <summary>He-initialised weights (seeded), for training from scratch.</summary>
    public static (List<Tensor> W, List<Tensor> B) Initial(Spec spec, Generator gen)
    {
        var ws = new List<Tensor>(); var bs = new List<Tensor>();
        foreach (var shape in spec.WeightShapes)
        {
            long fanIn = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            ws.Add((torch.randn(shape, generator: gen) * Math.Sqrt(2.0 / fanIn)).DetachFromDisposeScope());
            bs.Add(torch.zeros(shape[0]).DetachFromDisposeScope());
        }
        return (ws, bs);
    }
}
