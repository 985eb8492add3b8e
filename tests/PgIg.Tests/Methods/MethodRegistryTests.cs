using PgIg.Config;
using PgIg.Methods;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Rules;
using PgIg.Tests.Rules;
using TorchSharp;
using Xunit;
using static PgIg.Tests.Methods.MethodFixtures;
using static TorchSharp.torch;

namespace PgIg.Tests.Methods;

public sealed class MethodRegistryTests : IDisposable
{
    readonly SequentialNet _net = TinyNets.Build("conv3 relu pool conv4 relu pool flatten dense5 relu dense3", [1, 8, 8], 71, ScalarType.Float32);
    readonly PatternSet _estimated, _ones;
    readonly Tensor _x, _classes, _reference;

    public MethodRegistryTests()
    {
        _estimated = TinyNets.EstimatedPatterns(_net, 72);
        _ones = PatternSet.Ones(_net);
        _x = TinyNets.Inputs(4, _net.InputShape, 73, ScalarType.Float32);
        _classes = TinyNets.Classes(0, 1, 2, 0);
        _reference = TinyNets.Inputs(6, _net.InputShape, 74, ScalarType.Float32);
    }

    public void Dispose() { _net.Dispose(); _estimated.Dispose(); _ones.Dispose(); _x.Dispose(); _classes.Dispose(); _reference.Dispose(); }

    public static TheoryData<string, string, bool> AllCombinations()
    {
        var d = new TheoryData<string, string, bool>();
        foreach (var k in MethodRegistry.Kinds.Where(k => !k.FromFiles))   // imported maps: ImportedMapsTests
            foreach (var r in k.NeedsBackward ? MethodRegistry.Rules : ["gradient"])
                foreach (var faithful in new[] { true, false })
                    d.Add(k.Name, r, faithful);
        return d;
    }

    [Theory]
    [MemberData(nameof(AllCombinations))]
    public void Every_kind_and_rule_builds_and_runs(string kind, string rule, bool faithful)
    {
        using var scope = torch.NewDisposeScope();
        var q = faithful ? Quirks.Faithful : Quirks.Corrected;
        // faithful exp_grad needs batch > n_samples; keep the noise/sample loops short
        var m = kind switch
        {
            "exp_grad" => Resolve(kind, rule, overrides: ("n_samples", 3)),
            "smooth_grad" or "smooth_grad2" or "var_grad" => Resolve(kind, rule, overrides: ("n_samples", 4)),
            "sg_ig" => Resolve(kind, rule, overrides: [("n_samples", 3), ("steps", 5)]),
            _ => Resolve(kind, rule),
        };
        // estimated a₊ patterns for the pattern rule, A ≡ 1 for PatternNet (the gradient rule ignores them)
        var patterns = rule == "patternnet" ? _ones : _estimated;
        {
            using var r = MethodRegistry.CreateRule(m, _net, patterns);
            Assert.Equal(kind == "guided_backprop" ? (rule == "pattern" ? "pattern_guided" : "guided") : rule, r.Name);
            var method = MethodRegistry.Create(m, r, _net, q, TinyNets.Large, _reference);
            Assert.Equal(kind, method.Kind);
            var a = method.Attribute(_x, _classes, Batch(0, 1, 2, 3));
            Assert.Equal(_x.shape, a.shape);
            Assert.True(a.isfinite().all().item<bool>(), "non-finite attribution");
            Assert.True(TinyNets.MaxAbs(a) > 0, "all-zero attribution");
            if (kind == "random") Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() < 1);
        }
    }

    [Fact]
    public void Pattern_rules_need_patterns()
    {
        Assert.Throws<InvalidOperationException>(() => MethodRegistry.CreateRule(Resolve("vanilla_grad", "pattern"), _net, null));
        Assert.Throws<InvalidOperationException>(() => MethodRegistry.CreateRule(Resolve("integrate_grad", "patternnet"), _net, null));
        using var r = MethodRegistry.CreateRule(Resolve("vanilla_grad"), _net, null);
        Assert.IsType<GradientRule>(r);
    }

    [Theory]
    [InlineData("pattern_smooth_grad", "smooth_grad", "pattern")]
    [InlineData("pattern_exp_grad", "exp_grad", "pattern")]
    [InlineData("pattern_integrate_grad", "integrate_grad", "pattern")]
    [InlineData("pattern_vanilla_grad", "vanilla_grad", "pattern")]
    [InlineData("guided_backprop", "guided_backprop", "gradient")]
    [InlineData("random", "random", "gradient")]
    public void Shorthand_maps_the_pattern_prefix_to_the_pattern_rule(string s, string kind, string rule) =>
        Assert.Equal((kind, rule), MethodRegistry.ParseShorthand(s));

    [Theory]
    [InlineData("pattern_random")]
    [InlineData("pattern_")]
    [InlineData("lrp")]
    public void Unknown_shorthands_are_rejected(string s) => Assert.Null(MethodRegistry.ParseShorthand(s));

    [Theory]
    [InlineData("vanilla_grad", "gradient", SeedMode.One)]
    [InlineData("grad_x_input", "gradient", SeedMode.One)]
    [InlineData("integrate_grad", "gradient", SeedMode.One)]
    [InlineData("smooth_grad", "gradient", SeedMode.One)]
    [InlineData("exp_grad", "gradient", SeedMode.One)]
    [InlineData("guided_backprop", "gradient", SeedMode.Probability)]
    [InlineData("vanilla_grad", "pattern", SeedMode.Probability)]
    [InlineData("integrate_grad", "pattern", SeedMode.Probability)]
    [InlineData("smooth_grad", "pattern", SeedMode.Probability)]
    [InlineData("exp_grad", "pattern", SeedMode.Probability)]
    [InlineData("vanilla_grad", "patternnet", SeedMode.Probability)]
    public void Seed_follows_the_spec(string kind, string rule, SeedMode faithfulSeed)
    {
        var m = Resolve(kind, rule);
        Assert.Equal((faithfulSeed, OutputHead.Softmax), MethodRegistry.SeedFor(m, Quirks.Faithful));
        Assert.Equal((SeedMode.One, OutputHead.Logit), MethodRegistry.SeedFor(m, Quirks.Corrected));
    }

    [Fact]
    public void Pattern_smooth_grad_with_zero_noise_is_pattern_attribution()
    {
        using var scope = torch.NewDisposeScope();
        var sg = Resolve("smooth_grad", "pattern", overrides: [("n_samples", 3), ("stdev_spread", 0.0)]);
        using var r = MethodRegistry.CreateRule(sg, _net, _estimated);
        var q = Quirks.Faithful with { CumulativeGradient = false };
        var a = MethodRegistry.Create(sg, r, _net, q, TinyNets.Large).Attribute(_x, _classes, Batch(0, 1, 2, 3));
        var pa = MethodRegistry.Create(Resolve("vanilla_grad", "pattern"), r, _net, q, TinyNets.Large).Attribute(_x, _classes, Batch(0, 1, 2, 3));
        TinyNets.AssertClose(pa, a, 1e-6);
    }
}
