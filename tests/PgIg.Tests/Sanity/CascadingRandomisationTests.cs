using PgIg.Config;
using PgIg.Methods;
using PgIg.Models;
using PgIg.Sanity;
using PgIg.Tests.Methods;
using PgIg.Util;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PgIg.Tests.Sanity;

/// <summary>Tiny nets where what the randomisation does to a map is known in advance.</summary>
public sealed class CascadingRandomisationTests
{
    static SequentialNet Net(string layout) => Rules.TinyNets.Build(layout, [1, 4, 4], seed: 3, dtype: ScalarType.Float32);

    static float[] Map(SequentialNet net, string kind, Tensor x, long target)
    {
        var m = MethodFixtures.Resolve(kind);
        using var rule = MethodRegistry.CreateRule(m, net, null);
        var method = MethodRegistry.Create(m, rule, net, Quirks.For(Protocol.Corrected), Rules.TinyNets.Large);
        return method.Attribute(x, torch.tensor(new[] { target }), MethodFixtures.Batch(7)).contiguous().data<float>().ToArray();
    }

    [Fact]
    public void The_top_k_layers_are_redrawn_from_the_seed_and_the_rest_are_kept()
    {
        using var net = Net("conv2 relu flatten dense5 relu dense3");
        using var one = CascadingRandomisation.Randomise(net, 1, seed: 11);
        using var two = CascadingRandomisation.Randomise(net, 2, seed: 11);
        using var again = CascadingRandomisation.Randomise(net, 2, seed: 11);
        using var other = CascadingRandomisation.Randomise(net, 2, seed: 12);
        var W = (CascadingRandomisation.Randomised r, int i) => r.Net.WeightedLayers[i].Weight;

        Assert.Same(net.WeightedLayers[0].Weight, W(two, 0));             // below the cascade: the very tensors
        Assert.Same(net.WeightedLayers[1].Weight, W(one, 1));
        Assert.False(W(one, 2).allclose(net.WeightedLayers[2].Weight, 0, 0));
        Assert.True(W(one, 2).allclose(W(two, 2), 0, 0));             // cumulative: level 2 = level 1 plus one more layer
        Assert.True(W(two, 1).allclose(W(again, 1), 0, 0));           // seeded
        Assert.False(W(two, 1).allclose(W(other, 1), 0, 0));
        Assert.Equal(0, two.Net.WeightedLayers[2].Bias.abs().sum().item<float>());
        // the trainer's init: N(0, 2 / fan_in) from the generator (seed, "sanity-init", layer)
        using var gen = Seeds.Generator(11L, "sanity-init", 2);
        Assert.True(W(one, 2).allclose(torch.randn([3, 5], generator: gen) * Math.Sqrt(2.0 / 5), 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CascadingRandomisation.Randomise(net, 4, 11));
        // disposing a randomised copy frees only its own tensors
        one.Dispose();
        Assert.Equal(net.WeightedLayers[2].Weight.shape, new long[] { 3, 5 });
    }

    [Fact]
    public void A_linear_models_gradient_is_its_weight_row_so_the_similarity_is_that_of_the_two_rows()
    {
        using var net = Net("flatten dense3");
        using var x = torch.randn([1, 1, 4, 4], generator: new Generator(5));
        using var randomised = CascadingRandomisation.Randomise(net, 1, seed: 2);
        var before = Map(net, "vanilla_grad", x, 1);
        var after = Map(randomised.Net, "vanilla_grad", x, 1);
        // d logit_1 / dx = W[1, :]: the map is the weight row, before and after
        Assert.Equal(net.WeightedLayers[0].Weight[1].data<float>().ToArray(), before);
        var row = randomised.Net.WeightedLayers[0].Weight[1].data<float>().ToArray();
        Assert.Equal(row, after);
        var expected = MapSimilarity.Spearman(before.Select(v => (double)v).ToArray(), row.Select(v => (double)v).ToArray());
        var s = MapSimilarity.Compare(before, after, 1, 4, 4);
        Assert.Equal(expected, s.Spearman, 12);
        Assert.InRange(s.Spearman, -0.99, 0.99);                           // an independent draw: not the same ranking
    }

    [Fact]
    public void A_method_that_ignores_the_weights_keeps_its_map_at_every_level()
    {
        using var net = Net("conv2 relu flatten dense3");
        using var x = torch.randn([1, 1, 4, 4], generator: new Generator(5));
        var original = Map(net, "random", x, 0);
        for (int k = 1; k <= 2; k++)
        {
            using var randomised = CascadingRandomisation.Randomise(net, k, seed: 2);
            var s = MapSimilarity.Compare(original, Map(randomised.Net, "random", x, 0), 1, 4, 4);
            Assert.Equal(1, s.SpearmanAbs, 12);
            Assert.Equal(1, s.Spearman, 12);
            Assert.Equal(1, s.Ssim, 12);
        }
        // while the gradient does change once the top layer is redrawn
        using var top = CascadingRandomisation.Randomise(net, 1, seed: 2);
        Assert.True(MapSimilarity.Compare(Map(net, "vanilla_grad", x, 0), Map(top.Net, "vanilla_grad", x, 0), 1, 4, 4).Spearman < 0.999);
    }
}
