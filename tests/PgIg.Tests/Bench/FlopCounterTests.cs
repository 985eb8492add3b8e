using PgIg.Bench;
using PgIg.Models;
using TorchSharp;
using Xunit;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Tests.Bench;

public class FlopCounterTests
{
    /// <summary>Uninitialised weights: the counter only reads shapes.</summary>
    static SequentialNet Shapes(Architectures.Spec spec) => Architectures.Build(spec,
        spec.WeightShapes.Select(s => torch.empty(s)).ToList(), spec.WeightShapes.Select(s => torch.empty(s[0])).ToList());

    [Fact]
    public void Tiny_net_macs_match_the_hand_count()
    {
        // 2×4×4 input; conv 2→3 (3×3, pad 1) keeps 4×4; pool → 3×2×2; conv 3→4 (1×1, pad 0) → 4×2×2; dense 16→5
        var spec = new Architectures.Spec("custom", [2, 4, 4],
            ["conv", "relu", "pool", "conv", "relu", "flatten", "dense"],
            [[3, 2, 3, 3], [4, 3, 1, 1], [5, 16]]);
        using var net = Shapes(spec);

        var layers = FlopCounter.Layers(net);
        Assert.Equal(new long[] { 3 * 2 * 3 * 3 * 4 * 4, 4 * 3 * 1 * 1 * 2 * 2, 5 * 16 }, layers.Select(l => l.Macs));
        Assert.Equal(new long[] { 3, 4, 4 }, layers[0].OutShape);
        Assert.Equal(new long[] { 4, 2, 2 }, layers[1].OutShape);
        Assert.Equal(864 + 48 + 80, FlopCounter.ForwardMacs(net));
        Assert.Equal(4.0 * 992, FlopCounter.PassFlops(992));
        Assert.Equal(6.0 * 992, FlopCounter.AutogradPassFlops(992));
    }

    [Fact]
    public void Derived_output_shapes_are_the_ones_torch_produces()
    {
        using var net = Shapes(Architectures.FashionCnn);
        using var scope = torch.NewDisposeScope();
        var counted = FlopCounter.Layers(net).ToDictionary(l => l.LayerIndex);
        Assert.Equal(6, counted.Count);
        var x = torch.zeros(new long[] { 1 }.Concat(net.InputShape).ToArray());
        for (int i = 0; i < net.Layers.Count; i++)
        {
            x = net.Layers[i] switch
            {
                Conv2dLayer c => F.conv2d(x, c.Weight, padding: new[] { c.Padding, c.Padding }),
                LinearLayer l => F.linear(x, l.Weight),
                MaxPool2dLayer m => F.max_pool2d(x, new[] { m.KernelSize, m.KernelSize }, new[] { m.Stride, m.Stride }),
                FlattenLayer => x.flatten(1),
                _ => x,
            };
            if (counted.TryGetValue(i, out var layer)) Assert.Equal(layer.OutShape, x.shape.Skip(1).ToArray());
        }
    }

    [Fact]
    public void Vgg16_at_225_is_about_15_5_gmacs()
    {
        // 13 convs at 225/112/56/28/14 plus the dense layers; spec §15 says "about 15.5 G"
        using var net = Shapes(Architectures.Vgg16);
        Assert.Equal(15_487_592_128L, FlopCounter.ForwardMacs(net));
    }
}
