using PgIg.Config;
using PgIg.Methods;
using PgIg.Patterns;
using PgIg.Rules;
using PgIg.Tests.Rules;
using TorchSharp;
using Xunit;
using static PgIg.Tests.Methods.MethodFixtures;

namespace PgIg.Tests.Methods;

/// <summary>Spec §15 tests 3 and 4: with A ≡ 1 the pattern methods reduce to probability-seeded gradient methods.</summary>
public class PatternIdentityTests
{
    const string Layout = "conv4 relu conv4 relu pool conv6 relu pool flatten dense8 relu dense5";

    [Fact]
    public void PatternAttribution_with_unit_patterns_equals_the_probability_seeded_gradient()
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build(Layout, [3, 12, 12], 11, torch.ScalarType.Float32);
        var x = TinyNets.Inputs(3, net.InputShape, 12, torch.ScalarType.Float32);
        var classes = TinyNets.Classes(0, 3, 4);
        using var ones = PatternSet.Ones(net);
        var m = Resolve("vanilla_grad", "pattern");
        using var rule = MethodRegistry.CreateRule(m, net, ones);
        var pa = MethodRegistry.Create(m, rule, net, Quirks.Faithful, TinyNets.Large).Attribute(x, classes, Batch(0, 1, 2));

        var expected = new Backprop(net, new GradientRule(net), SeedMode.Probability, OutputHead.Softmax, TinyNets.Large).InputGradients(x, classes);
        Assert.True(expected.eq(pa).all().item<bool>(), "PA with A ≡ 1 differs from the p_c-seeded gradient");
        var seedOne = new Backprop(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax, TinyNets.Large).InputGradients(x, classes);
        Assert.True(TinyNets.MaxAbs(seedOne - pa) > 1e-3 * TinyNets.MaxAbs(seedOne), "the seed p_c must matter");
    }

    [Fact]
    public void Pgig_with_unit_patterns_equals_integrated_gradients_with_probability_seed()
    {
        using var scope = torch.NewDisposeScope();
        using var net = TinyNets.Build(Layout, [3, 12, 12], 13, torch.ScalarType.Float32);
        var x = TinyNets.Inputs(3, net.InputShape, 14, torch.ScalarType.Float32);
        var classes = TinyNets.Classes(1, 2, 0);
        using var ones = PatternSet.Ones(net);
        var m = Resolve("integrate_grad", "pattern");
        using var rule = MethodRegistry.CreateRule(m, net, ones);
        var pgig = MethodRegistry.Create(m, rule, net, Quirks.Faithful, TinyNets.Large).Attribute(x, classes, Batch(0, 1, 2));

        var ig = new IntegratedGradients(Grad(net, new GradientRule(net), SeedMode.Probability, OutputHead.Softmax), 25, includeEndpoint: false, TinyNets.Large);
        var expected = ig.Attribute(x, classes, Batch(0, 1, 2));
        Assert.True(expected.eq(pgig).all().item<bool>(), "PGIG with A ≡ 1 differs from IG seeded with p_c");

        var plainIg = MethodRegistry.Create(Resolve("integrate_grad"), new GradientRule(net), net, Quirks.Faithful, TinyNets.Large).Attribute(x, classes, Batch(0, 1, 2));
        Assert.True(TinyNets.MaxAbs(plainIg - pgig) > 1e-3 * TinyNets.MaxAbs(plainIg), "faithful integrate_grad seeds with 1, PGIG with p_c");
    }
}
