using PgIg.Config;
using PgIg.Methods;
using PgIg.Rules;
using PgIg.Tests.Rules;
using TorchSharp;
using Xunit;
using static PgIg.Tests.Methods.MethodFixtures;
using static TorchSharp.torch;

namespace PgIg.Tests.Methods;

/// <summary>
/// The memory budget only changes how work is split, never the numbers. Not bit-for-bit: libtorch's CPU
/// matmul/conv kernels round a row differently depending on the batch size (≈1e-6 relative in float32,
/// ≈1e-15 in float64), so float64 runs are compared at 1e-10 and float32 at 1e-5.
/// </summary>
public class ChunkingTests
{
    const string Layout = "conv4 relu pool conv5 relu pool flatten dense6 relu dense3";

    static double Tol(ScalarType t) => t == ScalarType.Float64 ? 1e-10 : 1e-5;

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float32)]
    public void Backprop_chunk_size_does_not_change_gradients(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build(Layout, [1, 9, 9], 61, dtype);
        var x = TinyNets.Inputs(5, net.InputShape, 62, dtype);
        var classes = TinyNets.Classes(0, 1, 2, 0, 1);
        var tiny = new Backprop(net, new GradientRule(net), SeedMode.Probability, OutputHead.Softmax, TinyNets.Tiny);
        var large = new Backprop(net, new GradientRule(net), SeedMode.Probability, OutputHead.Softmax, TinyNets.Large);
        Assert.Equal(1, tiny.ChunkSize);
        Assert.True(large.ChunkSize >= 5);
        TinyNets.AssertClose(large.InputGradients(x, classes), tiny.InputGradients(x, classes), Tol(dtype), "backprop");
        Assert.Equal(5, tiny.Passes);
    }

    [Theory]
    [InlineData("integrate_grad", "gradient", true, ScalarType.Float64)]
    [InlineData("integrate_grad", "gradient", true, ScalarType.Float32)]
    [InlineData("integrate_grad", "pattern", false, ScalarType.Float64)]
    [InlineData("smooth_grad", "gradient", true, ScalarType.Float64)]
    [InlineData("var_grad", "gradient", false, ScalarType.Float64)]
    [InlineData("sg_ig", "gradient", true, ScalarType.Float64)]
    [InlineData("exp_grad", "gradient", true, ScalarType.Float64)]
    [InlineData("exp_grad", "pattern", false, ScalarType.Float64)]
    public void Method_results_do_not_depend_on_the_memory_budget(string kind, string rule, bool faithful, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build(Layout, [1, 9, 9], 63, dtype);
        using var patterns = TinyNets.EstimatedPatterns(net, 64);
        var x = TinyNets.Inputs(5, net.InputShape, 65, dtype);
        var classes = TinyNets.Classes(2, 1, 0, 1, 2);
        var m = kind switch
        {
            "integrate_grad" => Resolve(kind, rule),
            "sg_ig" => Resolve(kind, rule, overrides: [("n_samples", 3), ("steps", 4)]),
            _ => Resolve(kind, rule, overrides: ("n_samples", 4)),
        };
        var q = faithful ? Quirks.Faithful : Quirks.Corrected;
        var reference = TinyNets.Inputs(3, net.InputShape, 66, dtype);
        using var r = MethodRegistry.CreateRule(m, net, patterns);
        var info = Batch(0, 1, 2, 3, 4);
        var small = MethodRegistry.Create(m, r, net, q, TinyNets.Tiny, reference).Attribute(x, classes, info);
        var big = MethodRegistry.Create(m, r, net, q, TinyNets.Large, reference).Attribute(x, classes, info);
        TinyNets.AssertClose(big, small, Tol(dtype), $"{kind}/{rule}");
    }
}
