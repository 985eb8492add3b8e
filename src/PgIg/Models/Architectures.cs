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
    /// logits; no batch-norm, so patterns apply as in VGG16.
    /// </summary>
    public static Spec FashionCnn { get; } = new("fashion-cnn", [1, 28, 28],
        ["conv", "relu", "conv", "relu", "pool", "conv", "relu", "conv", "relu", "pool", "flatten", "dense", "relu", "dense"],
        [[16, 1, 3, 3], [16, 16, 3, 3], [32, 16, 3, 3], [32, 32, 3, 3], [128, 32 * 7 * 7], [10, 128]]);

    /// <summary>torchvision VGG16 ("D") at 225×225 input (spec §2.1); dropout and avgpool(7,7) are identities.</summary>
    public static Spec Vgg16 { get; } = new("vgg16", [3, 225, 225],
        ["conv", "relu", "conv", "relu", "pool",
         "conv", "relu", "conv", "relu", "pool",
         "conv", "relu", "conv", "relu", "conv", "relu", "pool",
         "conv", "relu", "conv", "relu", "conv", "relu", "pool",
         "conv", "relu", "conv", "relu", "conv", "relu", "pool",
         "flatten", "dense", "relu", "dense", "relu", "dense"],
        [[64, 3, 3, 3], [64, 64, 3, 3], [128, 64, 3, 3], [128, 128, 3, 3], [256, 128, 3, 3], [256, 256, 3, 3], [256, 256, 3, 3],
         [512, 256, 3, 3], [512, 512, 3, 3], [512, 512, 3, 3], [512, 512, 3, 3], [512, 512, 3, 3], [512, 512, 3, 3],
         [4096, 25088], [4096, 4096], [1000, 4096]]);

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
