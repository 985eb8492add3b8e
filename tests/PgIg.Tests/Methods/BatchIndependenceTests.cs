using PgIg.Config;
using PgIg.Methods;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Tests.Rules;
using TorchSharp;
using Xunit;
using static PgIg.Tests.Methods.MethodFixtures;
using static TorchSharp.torch;

namespace PgIg.Tests.Methods;

/// <summary>
/// Which methods depend on the other images of the batch (quirks B7, B8) and which must not. Float64, so
/// libtorch's batch-size-dependent rounding (≈1e-15) stays far below the 1e-10 tolerance.
/// </summary>
public sealed class BatchIndependenceTests : IDisposable
{
    readonly SequentialNet _net = TinyNets.Build("conv4 relu pool conv5 relu pool flatten dense6 relu dense3", [1, 9, 9], 51);
    readonly PatternSet _patterns;
    readonly Tensor _x, _classes;
    static readonly long[] Ids = [10, 11, 12, 13, 14];

    public BatchIndependenceTests()
    {
        _patterns = TinyNets.EstimatedPatterns(_net, 52);
        _x = TinyNets.Inputs(5, _net.InputShape, 53) * torch.tensor(new double[] { 1, 2, 0.5, 1.5, 3 }).reshape(5, 1, 1, 1);
        _classes = TinyNets.Classes(0, 1, 2, 1, 0);
    }

    public void Dispose() { _net.Dispose(); _patterns.Dispose(); _x.Dispose(); _classes.Dispose(); }

    Tensor Run(ResolvedMethod m, Quirks q, int[] rows)
    {
        using var rule = MethodRegistry.CreateRule(m, _net, _patterns);
        var method = MethodRegistry.Create(m, rule, _net, q, TinyNets.Large);
        var idx = torch.tensor(rows.Select(r => (long)r).ToArray());
        return method.Attribute(_x.index_select(0, idx), _classes.index_select(0, idx), Batch(rows.Select(r => Ids[r]).ToArray()));
    }

    public static TheoryData<string, string, bool> Independent() => new()
    {
        { "vanilla_grad", "gradient", true }, { "vanilla_grad", "gradient", false },
        { "integrate_grad", "gradient", true }, { "integrate_grad", "gradient", false },
        { "integrate_grad", "pattern", true }, { "integrate_grad", "pattern", false },
        { "grad_x_input", "gradient", true },
        { "guided_backprop", "gradient", true },
        { "random", "gradient", true },
        { "smooth_grad", "gradient", false },   // corrected: per-image σ
        { "smooth_grad2", "pattern", false },
    };

    [Theory]
    [MemberData(nameof(Independent))]
    public void Attribution_does_not_depend_on_the_rest_of_the_batch(string kind, string rule, bool faithful)
    {
        using var scope = torch.NewDisposeScope();
        var q = faithful ? Quirks.Faithful : Quirks.Corrected;
        var m = Resolve(kind, rule);
        int[] order = [3, 0, 4, 1, 2];
        var shuffled = Run(m, q, order);
        var alone = torch.cat(order.Select(i => Run(m, q, [i])).ToArray(), 0);
        TinyNets.AssertClose(alone, shuffled, 1e-10, $"{kind}/{rule}");
    }

    [Fact]
    public void Faithful_smooth_grad_depends_on_the_batch_range()
    {
        using var scope = torch.NewDisposeScope();
        var m = Resolve("smooth_grad", overrides: ("n_samples", 6));
        var withSmall = Run(m, Quirks.Faithful, [0, 2]);   // ranges of images 0 and 2 only
        var withLarge = Run(m, Quirks.Faithful, [0, 4]);   // image 4 has three times image 0's scale
        Assert.True(TinyNets.MaxAbs(withSmall[0] - withLarge[0]) > 1e-3 * TinyNets.MaxAbs(withSmall[0]), "batch σ should change image 0's map");
        // the corrected (per-image σ) map does not change
        var c1 = Run(m, Quirks.Corrected, [0, 2]);
        var c2 = Run(m, Quirks.Corrected, [0, 4]);
        TinyNets.AssertClose(c1[0], c2[0], 1e-10);
    }

    [Fact]
    public void Faithful_exp_grad_depends_on_the_batch_order()
    {
        using var scope = torch.NewDisposeScope();
        var m = Resolve("exp_grad", overrides: ("n_samples", 3));
        using var rule = MethodRegistry.CreateRule(m, _net, _patterns);
        var method = MethodRegistry.Create(m, rule, _net, Quirks.Faithful, TinyNets.Large);
        var info = Batch(Ids); // same batch key in both calls, so only the baselines change
        var a = method.Attribute(_x, _classes, info);
        var perm = torch.tensor(new long[] { 0, 4, 3, 2, 1 });
        var b = method.Attribute(_x.index_select(0, perm), _classes.index_select(0, perm), info);
        // image 0 sees images 4, 3, 2 first, then 1, 2, 3
        Assert.True(TinyNets.MaxAbs(a[0] - b[0]) > 1e-3 * TinyNets.MaxAbs(a[0]), "rolled batch baselines should change image 0's map");
    }
}
