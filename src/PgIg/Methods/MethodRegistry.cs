using PgIg.Config;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Rules;
using static TorchSharp.torch;

namespace PgIg.Methods;

public enum ParamType { Int, Double, Bool }

/// <summary>One tunable parameter of a method; the default is the original's (spec §5).</summary>
public sealed record ParamSpec(string Name, ParamType Type, object Default, string Doc);

/// <summary>A method family known to the pipeline.</summary>
public sealed record MethodKind(string Name, IReadOnlyList<ParamSpec> Params, string Doc, bool NeedsBackward = true);

/// <summary>A config method entry after defaults and shorthand are resolved. Its identity for caching is
/// (Kind, Rule, Params, Seed), not the display name.</summary>
public sealed record ResolvedMethod(string Name, string Kind, string Rule, IReadOnlyDictionary<string, object> Params, long Seed)
{
    public int Int(string p) => Convert.ToInt32(Params[p]);
    public double Double(string p) => Convert.ToDouble(Params[p]);
    public bool UsesPatterns => MethodRegistry.RuleUsesPatterns(Rule);

    public SortedDictionary<string, object?> ToKeyObject() => new(StringComparer.Ordinal)
    {
        ["kind"] = Kind, ["rule"] = Rule, ["seed"] = Seed,
        ["params"] = new SortedDictionary<string, object?>(Params.ToDictionary(p => p.Key, p => (object?)p.Value), StringComparer.Ordinal),
    };
}

/// <summary>All methods and rules, their parameters and defaults, and how to build them.</summary>
public static class MethodRegistry
{
    static ParamSpec Steps => new("steps", ParamType.Int, 25, "integration steps m (faithful: α = k/m for k = 1…m−1, divided by m)");
    static ParamSpec Spread => new("stdev_spread", ParamType.Double, 0.15, "noise σ as a fraction of the input range (max − min)");
    static ParamSpec Samples(int n) => new("n_samples", ParamType.Int, n, "number of samples");

    public static readonly IReadOnlyList<MethodKind> Kinds = new MethodKind[]
    {
        new("vanilla_grad", [], "input gradient of the target output"),
        new("grad_x_input", [], "input ⊙ gradient"),
        new("integrate_grad", [Steps], "integrated gradients, zero baseline"),
        new("guided_backprop", [], "gradient with guided ReLUs (only positive gradients pass)"),
        new("smooth_grad", [Spread, Samples(25)], "SmoothGrad: mean gradient under input noise"),
        new("smooth_grad2", [Spread, Samples(25)], "SmoothGrad²: mean squared gradient under input noise"),
        new("var_grad", [Spread, Samples(25)], "VarGrad: variance of the gradient under input noise"),
        new("sg_ig", [Steps, Spread, Samples(25)], "integrated gradients of SmoothGrad gradients"),
        new("exp_grad", [Samples(49)], "expected gradients"),
        new("random", [], "uniform random map (baseline)", NeedsBackward: false),
    };

    /// <summary>gradient: W; guided: W with guided ReLU; pattern: W⊙A (PatternAttribution); patternnet: A.</summary>
    public static readonly IReadOnlyList<string> Rules = new[] { "gradient", "pattern", "patternnet" };

    public static bool RuleUsesPatterns(string rule) => rule is "pattern" or "patternnet";

    public static MethodKind? Find(string kind) => Kinds.FirstOrDefault(k => k.Name == kind);

    /// <summary>The original's method strings: a kind, optionally prefixed with <c>pattern_</c> (rule pattern).</summary>
    public static (string Kind, string Rule)? ParseShorthand(string s)
    {
        if (Find(s) is not null) return (s, "gradient");
        if (s.StartsWith("pattern_", StringComparison.Ordinal) && Find(s["pattern_".Length..]) is { } k && k.NeedsBackward)
            return (k.Name, "pattern");
        return null;
    }

    public static IEnumerable<string> ShorthandNames() =>
        Kinds.Select(k => k.Name).Concat(Kinds.Where(k => k.NeedsBackward).Select(k => "pattern_" + k.Name));

    /// <summary>Seed and output head of a method under the quirks (spec §4.2, B9, B17).</summary>
    public static (SeedMode Seed, OutputHead Head) SeedFor(ResolvedMethod m, Quirks q)
    {
        bool originalUsesProbability = RuleUsesPatterns(m.Rule) || m.Kind == "guided_backprop";
        var seed = originalUsesProbability && q.ProbabilitySeedForPatternAndGuided ? SeedMode.Probability : SeedMode.One;
        return (seed, q.BackpropFromSoftmax ? OutputHead.Softmax : OutputHead.Logit);
    }

    public static BackwardRule CreateRule(ResolvedMethod m, SequentialNet net, PatternSet? patterns)
    {
        BackwardRule rule = m.Rule switch
        {
            "gradient" => new GradientRule(net),
            "pattern" => new PatternRule(net, patterns ?? throw new InvalidOperationException($"method '{m.Name}' uses rule pattern but no patterns are loaded")),
            "patternnet" => new PatternNetRule(net, patterns ?? throw new InvalidOperationException($"method '{m.Name}' uses rule patternnet but no patterns are loaded")),
            _ => throw new ArgumentException($"unknown rule '{m.Rule}'"),
        };
        return m.Kind == "guided_backprop" ? new GuidedRule(rule) : rule;
    }

    /// <summary>Builds the method over a backward rule. The rule (which may own W⊙A tensors) is created once and reused for every batch.</summary>
    public static AttributionMethod Create(ResolvedMethod m, BackwardRule rule, SequentialNet net, Quirks q, long memoryBudgetBytes, Tensor? referenceSet = null)
    {
        var (seed, head) = SeedFor(m, q);
        var grad = new RuleGradient(new Backprop(net, rule, seed, head, memoryBudgetBytes));
        var noise = new NoiseQuirks(q.CumulativeNoise, q.CumulativeGradient, q.BatchSigma);
        NoiseTunnel Tunnel(NoiseReduction r) => new(grad, r, m.Double("stdev_spread"), m.Int("n_samples"), noise, memoryBudgetBytes);
        bool endpoint = !q.IgExcludeEndpoint;
        return m.Kind switch
        {
            "vanilla_grad" or "guided_backprop" => new VanillaGrad(grad, m.Kind),
            "grad_x_input" => new GradXInput(grad),
            "integrate_grad" => new IntegratedGradients(grad, m.Int("steps"), endpoint, memoryBudgetBytes),
            "smooth_grad" => new NoiseTunnelMethod(m.Kind, Tunnel(NoiseReduction.Mean)),
            "smooth_grad2" => new NoiseTunnelMethod(m.Kind, Tunnel(NoiseReduction.MeanOfSquares)),
            "var_grad" => new NoiseTunnelMethod(m.Kind, Tunnel(NoiseReduction.Variance)),
            "sg_ig" => new IntegratedGradients(Tunnel(NoiseReduction.Mean), m.Int("steps"), endpoint, memoryBudgetBytes, "sg_ig"),
            "exp_grad" => new ExpectedGradients(grad, m.Int("n_samples"), q.ExpGradBatchBaselines, referenceSet, memoryBudgetBytes),
            "random" => new RandomAttribution(),
            _ => throw new ArgumentException($"unknown method kind '{m.Kind}'"),
        };
    }
}
