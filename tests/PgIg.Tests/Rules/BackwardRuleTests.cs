using PgIg.Models;
using PgIg.Patterns;
using PgIg.Rules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PgIg.Tests.Rules;

/// <summary>The hand-written backward (spec §5.12) against TorchSharp autograd.</summary>
public class BackwardRuleTests
{
    static readonly (string Layout, long[] Shape)[] Nets =
    [
        ("conv4 relu pool conv5 relu pool flatten dense6 relu dense3", [1, 9, 9]),          // 9→4: pool drops a row/column
        ("conv4 relu conv4 relu pool conv6 relu pool flatten dense5", [3, 12, 12]),
        ("conv3k5p2 relu pool conv4k3p0 relu flatten dense7 relu dense4", [2, 11, 11]),      // 5×5 kernel, valid conv
        ("conv3 pool relu conv4 relu pool flatten dense3", [1, 10, 10]),                      // pool before ReLU
        ("flatten dense8 relu dense8 relu dense3", [1, 5, 5]),
        // custom-model layers: strided convs (10→5 with output padding, 5→3), overlapping max-pool, average pools
        ("conv4k3p1s2 relu conv5k3p1s2 relu avg2s1 flatten dense3", [2, 10, 10]),
        ("conv4 relu pool3s2 conv5k2p0s2 relu avg2s2 flatten dense6 relu dense3", [3, 14, 14]),   // avg 3→1 drops a row
    ];

    public static IEnumerable<object[]> Cases()
    {
        for (int n = 0; n < Nets.Length; n++)
            foreach (var seed in new long[] { 1, 2 })
                foreach (var (s, h) in new[] { (SeedMode.One, OutputHead.Softmax), (SeedMode.Probability, OutputHead.Softmax), (SeedMode.One, OutputHead.Logit), (SeedMode.Probability, OutputHead.Logit) })
                    yield return [n, seed, s, h];
    }

    static (SequentialNet Net, Tensor X, Tensor Classes) Setup(int n, long seed, ScalarType dtype = ScalarType.Float64)
    {
        var (layout, shape) = Nets[n];
        var net = TinyNets.Build(layout, shape, 100 + seed * 10 + n, dtype);
        var x = TinyNets.Inputs(4, shape, 200 + seed * 10 + n, dtype);
        long k = net.NumClasses;
        var classes = TinyNets.Classes(0, 2 % k, 1, (seed + n) % k);
        return (net, x, classes);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradient_rule_matches_autograd(int n, long seed, SeedMode s, OutputHead head)
    {
        using var scope = torch.NewDisposeScope();
        var (net, x, classes) = Setup(n, seed);
        using var _ = net;
        var expected = TinyNets.AutogradInputGrad(net, x, classes, s, head);
        var actual = new Backprop(net, new GradientRule(net), s, head, TinyNets.Large).InputGradients(x, classes);
        TinyNets.AssertClose(expected, actual, 1e-10, Nets[n].Layout);
    }

    [Theory]
    [InlineData(0, OutputHead.Softmax)]
    [InlineData(1, OutputHead.Logit)]
    [InlineData(2, OutputHead.Softmax)]
    [InlineData(6, OutputHead.Logit)]
    public void Gradient_rule_matches_autograd_in_float32(int n, OutputHead head)
    {
        using var scope = torch.NewDisposeScope();
        var (net, x, classes) = Setup(n, 3, ScalarType.Float32);
        using var _ = net;
        var expected = TinyNets.AutogradInputGrad(net, x, classes, SeedMode.Probability, head);
        var actual = new Backprop(net, new GradientRule(net), SeedMode.Probability, head, TinyNets.Large).InputGradients(x, classes);
        Assert.Equal(ScalarType.Float32, actual.dtype);
        TinyNets.AssertClose(expected, actual, 1e-5, Nets[n].Layout);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pattern_rule_matches_autograd_through_w_times_a_with_the_forward_switches(int n, long seed, SeedMode s, OutputHead head)
    {
        using var scope = torch.NewDisposeScope();
        var (net, x, classes) = Setup(n, seed);
        using var _ = net;
        using var patterns = new PatternSet(TinyNets.RandomPatterns(net, 300 + seed));
        var kernels = net.WeightedLayers.Select((l, i) => l.Weight * patterns.A[i]).ToList();
        var expected = TinyNets.AutogradInputGrad(net, x, classes, s, head, kernels);
        using var rule = new PatternRule(net, patterns);
        var actual = new Backprop(net, rule, s, head, TinyNets.Large).InputGradients(x, classes);
        TinyNets.AssertClose(expected, actual, 1e-10, Nets[n].Layout);
        // the pattern backward is not the gradient
        var plain = new Backprop(net, new GradientRule(net), s, head, TinyNets.Large).InputGradients(x, classes);
        Assert.True(TinyNets.MaxAbs(plain - actual) > 1e-3 * TinyNets.MaxAbs(plain));
    }

    [Theory]
    [InlineData(0, 1L, SeedMode.Probability, OutputHead.Softmax)]
    [InlineData(1, 2L, SeedMode.One, OutputHead.Logit)]
    [InlineData(2, 1L, SeedMode.One, OutputHead.Softmax)]
    [InlineData(3, 2L, SeedMode.Probability, OutputHead.Logit)]
    [InlineData(5, 1L, SeedMode.Probability, OutputHead.Softmax)]
    [InlineData(6, 2L, SeedMode.One, OutputHead.Logit)]
    public void PatternNet_rule_matches_autograd_through_a_with_the_forward_switches(int n, long seed, SeedMode s, OutputHead head)
    {
        using var scope = torch.NewDisposeScope();
        var (net, x, classes) = Setup(n, seed);
        using var _ = net;
        using var patterns = new PatternSet(TinyNets.RandomPatterns(net, 400 + seed));
        var expected = TinyNets.AutogradInputGrad(net, x, classes, s, head, patterns.A);
        var actual = new Backprop(net, new PatternNetRule(net, patterns), s, head, TinyNets.Large).InputGradients(x, classes);
        TinyNets.AssertClose(expected, actual, 1e-10, Nets[n].Layout);
    }

    [Theory]
    [InlineData(0, OutputHead.Softmax)]
    [InlineData(1, OutputHead.Softmax)]
    [InlineData(2, OutputHead.Logit)]
    [InlineData(3, OutputHead.Softmax)]
    [InlineData(5, OutputHead.Softmax)]
    [InlineData(6, OutputHead.Logit)]   // ReLU before an overlapping pool: gated after the switches' gradients add up
    public void Guided_rule_matches_layerwise_autograd_with_positive_relu_gradients(int n, OutputHead head)
    {
        using var scope = torch.NewDisposeScope();
        var (net, x, classes) = Setup(n, 1);
        using var _ = net;
        var expected = TinyNets.GuidedReference(net, x, classes, SeedMode.Probability, head);
        var actual = new Backprop(net, new GuidedRule(new GradientRule(net)), SeedMode.Probability, head, TinyNets.Large).InputGradients(x, classes);
        TinyNets.AssertClose(expected, actual, 1e-10, Nets[n].Layout);
        // guided differs from the plain gradient on these nets
        var plain = TinyNets.AutogradInputGrad(net, x, classes, SeedMode.Probability, head);
        Assert.True(TinyNets.MaxAbs(plain - actual) > 1e-3 * TinyNets.MaxAbs(plain));
    }

    [Fact]
    public void Output_seed_is_the_softmax_vjp_s_pc_times_ec_minus_p()
    {
        using var scope = torch.NewDisposeScope();
        var z = TinyNets.Inputs(3, [5], 7);
        var c = TinyNets.Classes(4, 0, 2);
        var p = z.softmax(-1);
        for (int b = 0; b < 3; b++)
        {
            long cb = c[b].item<long>();
            double pc = p[b, cb].item<double>();
            foreach (var mode in new[] { SeedMode.One, SeedMode.Probability })
            {
                var g = Backprop.OutputSeed(z, c, mode, OutputHead.Softmax);
                double s = mode == SeedMode.Probability ? pc : 1.0;
                for (int j = 0; j < 5; j++)
                    Assert.Equal(s * pc * ((j == cb ? 1 : 0) - p[b, j].item<double>()), g[b, j].item<double>(), 1e-15);
                var gl = Backprop.OutputSeed(z, c, mode, OutputHead.Logit);
                for (int j = 0; j < 5; j++) Assert.Equal(j == cb ? s : 0.0, gl[b, j].item<double>(), 1e-15);
            }
        }
    }
}
