using PgIg.Config;
using PgIg.Methods;
using PgIg.Rules;
using PgIg.Tests.Rules;
using TorchSharp;
using Xunit;
using static PgIg.Tests.Methods.MethodFixtures;
using static TorchSharp.torch;

namespace PgIg.Tests.Methods;

public class IntegratedGradientsTests
{
    [Theory]
    [InlineData(22L)]
    [InlineData(25L)]
    public void Corrected_ig_is_complete_at_200_steps(long seed)
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build("conv4 relu pool flatten dense6 relu dense3", [1, 8, 8], seed);
        var x = TinyNets.Inputs(6, net.InputShape, 22, scale: 3);
        var f0 = net.Forward(torch.zeros_like(x));
        var classes = (net.Forward(x) - f0).abs().argmax(1); // the class that moves most along the path
        var m = Resolve("integrate_grad", overrides: ("steps", 200));
        var ig = (IntegratedGradients)MethodRegistry.Create(m, new GradientRule(net), net, Quirks.Corrected, TinyNets.Large);
        Assert.Equal(1.0, ig.Alphas[^1]);
        var attr = ig.Attribute(x, classes, Batch(0, 1, 2, 3, 4, 5));

        var delta = (net.Forward(x) - f0).gather(1, classes.unsqueeze(1)).squeeze(1); // logit head: f = z_c
        for (int i = 0; i < 6; i++)
        {
            double d = delta[i].item<double>(), sum = attr[i].sum().item<double>();
            Assert.True(Math.Abs(d) > 1, $"image {i}: f(x) − f(0) = {d} is too small to test");
            Assert.True(Math.Abs(sum - d) <= 0.01 * Math.Abs(d), $"image {i}: Σ attribution {sum} vs f(x) − f(0) = {d}");
        }
    }

    [Fact]
    public void Faithful_alphas_are_numpy_arange_without_the_endpoint()
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build("flatten dense3", [1, 2, 2], 1);
        var ig = new IntegratedGradients(Grad(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax), 25, includeEndpoint: false, TinyNets.Large);
        Assert.Equal(24, ig.Alphas.Count);
        double start = 1.0 / 25, delta = (start + start) - start; // NumPy fills start + i·delta
        for (int k = 0; k < 24; k++)
        {
            Assert.Equal(start + k * delta, ig.Alphas[k]);
            Assert.True(Math.Abs(ig.Alphas[k] - (k + 1) / 25.0) < 1e-15);
        }
        Assert.True(Math.Abs(ig.Alphas[^1] - 0.96) < 1e-15);
        var corrected = new IntegratedGradients(Grad(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax), 25, includeEndpoint: true, TinyNets.Large);
        Assert.Equal(Enumerable.Range(1, 25).Select(k => k / 25.0), corrected.Alphas);
    }

    [Fact]
    public void Faithful_ig_equals_x_times_the_sum_of_24_gradients_over_25()
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build("conv4 relu pool conv5 relu pool flatten dense6 relu dense3", [1, 9, 9], 23, ScalarType.Float32);
        var x = TinyNets.Inputs(3, net.InputShape, 24, ScalarType.Float32);
        var classes = TinyNets.Classes(2, 0, 1);
        var bp = new Backprop(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax, TinyNets.Large);
        var sum = torch.zeros_like(x);
        foreach (var a in NumpyArange(1.0 / 25, 1.0, 1.0 / 25)) sum += bp.InputGradients(x * a, classes);
        var expected = x * sum / 25;

        var m = Resolve("integrate_grad");
        var actual = MethodRegistry.Create(m, new GradientRule(net), net, Quirks.Faithful, TinyNets.Large).Attribute(x, classes, Batch(0, 1, 2));
        TinyNets.AssertClose(expected, actual, 1e-6);
    }

    /// <summary>np.arange for a positive float step: ceil((stop − start)/step) values start + i·((start + step) − start).</summary>
    static IEnumerable<float> NumpyArange(double start, double stop, double step)
    {
        long n = (long)Math.Ceiling((stop - start) / step);
        double d = (start + step) - start;
        for (long i = 0; i < n; i++) yield return (float)(start + i * d);
    }
}
