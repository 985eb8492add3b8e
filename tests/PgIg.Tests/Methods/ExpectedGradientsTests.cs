using PgIg.Methods;
using PgIg.Rules;
using PgIg.Tests.Rules;
using TorchSharp;
using Xunit;
using static PgIg.Tests.Methods.MethodFixtures;
using static TorchSharp.torch;

namespace PgIg.Tests.Methods;

public class ExpectedGradientsTests
{
    static SequentialNetFixture Setup() => new(TinyNets.Build("conv4 relu pool flatten dense6 relu dense3", [1, 8, 8], 31, ScalarType.Float32));

    sealed record SequentialNetFixture(Models.SequentialNet Net) : IDisposable
    {
        public RuleGradient Grad => MethodFixtures.Grad(Net, new GradientRule(Net), SeedMode.One, OutputHead.Softmax);
        public void Dispose() => Net.Dispose();
    }

    [Fact]
    public void Corrected_exp_grad_with_copies_of_the_input_as_references_is_zero()
    {
        using var scope = torch.NewDisposeScope();
        using var f = Setup();
        var x = TinyNets.Inputs(2, f.Net.InputShape, 32, ScalarType.Float32);
        var classes = TinyNets.Classes(0, 2);
        for (int i = 0; i < 2; i++)
        {
            var xi = x[i].unsqueeze(0);
            var eg = new ExpectedGradients(f.Grad, 6, batchBaselines: false, xi.repeat(3, 1, 1, 1), TinyNets.Large);
            Assert.Equal(0.0, TinyNets.MaxAbs(eg.Attribute(xi, classes[i].unsqueeze(0), Batch(i))));
        }
        // a reference set of other images gives a non-zero map
        var other = new ExpectedGradients(f.Grad, 6, batchBaselines: false, x[1].unsqueeze(0), TinyNets.Large);
        Assert.True(TinyNets.MaxAbs(other.Attribute(x[0].unsqueeze(0), classes[0].unsqueeze(0), Batch(0))) > 0);
    }

    [Fact]
    public void Faithful_exp_grad_on_a_batch_of_identical_images_is_zero()
    {
        using var scope = torch.NewDisposeScope();
        using var f = Setup();
        var x = TinyNets.Inputs(1, f.Net.InputShape, 33, ScalarType.Float32).repeat(6, 1, 1, 1);
        var classes = TinyNets.Classes(1, 1, 1, 1, 1, 1);
        var eg = new ExpectedGradients(f.Grad, 5, batchBaselines: true, null, TinyNets.Large);
        Assert.Equal(0.0, TinyNets.MaxAbs(eg.Attribute(x, classes, Batch(0, 1, 2, 3, 4, 5))));
        Assert.Throws<InvalidOperationException>(() => eg.Attribute(x[TensorIndex.Slice(0, 5)], classes[TensorIndex.Slice(0, 5)], Batch(0, 1, 2, 3, 4)));
    }

    [Fact]
    public void Faithful_exp_grad_uses_the_rolled_batch_as_baselines()
    {
        // With a linear (dense-only, logit) net the gradient is W[c] everywhere, so the map is
        // (x_i − mean of the n rolled batch-mates) ⊙ W[c], whatever the α's.
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build("flatten dense3", [1, 3, 3], 34);
        var x = TinyNets.Inputs(5, net.InputShape, 35);
        var classes = TinyNets.Classes(0, 1, 2, 0, 1);
        var eg = new ExpectedGradients(Grad(net, new GradientRule(net), SeedMode.One, OutputHead.Logit), 3, batchBaselines: true, null, TinyNets.Large);
        var attr = eg.Attribute(x, classes, Batch(0, 1, 2, 3, 4));
        var w = net.WeightedLayers[0].Weight;
        for (int i = 0; i < 5; i++)
        {
            var baseMean = (x[(i + 4) % 5] + x[(i + 3) % 5] + x[(i + 2) % 5]) / 3;
            var expected = (x[i] - baseMean) * w[classes[i].item<long>()].reshape(1, 3, 3);
            TinyNets.AssertClose(expected, attr[i], 1e-12, $"image {i}");
        }
    }
}
