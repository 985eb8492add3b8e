using PgIg.Config;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Rules;
using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>A config method entry after defaults and shorthand are resolved. Its identity for caching is
/// (Kind, Rule, Params, Seed), not the display name.</summary>
public sealed record ResolvedMethod(string Name, string Kind, string Rule, IReadOnlyDictionary<string, object> Params, long Seed)
{
    /// <summary>The entry's place in the config (file:line:column), for errors found after loading.</summary>
    public string? Where { get; init; }

    public int Int(string p) => Convert.ToInt32(Params[p]);
    public double Double(string p) => Convert.ToDouble(Params[p]);
    public string Path(string p) => (string)Params[p];
    public bool UsesPatterns => MethodRegistry.RuleUsesPatterns(Rule);

    /// <summary>The files this method reads (parameter → full path); their content hashes enter the Attribute key.</summary>
    public IReadOnlyDictionary<string, string> InputFiles() =>
        (MethodRegistry.Find(Kind)?.Params ?? []).Where(s => s.Type == ParamType.Path).ToDictionary(s => s.Name, s => Path(s.Name));

    /// <summary>The method's identity; file parameters are left out (a moved file is the same input), their content is keyed instead.</summary>
    public SortedDictionary<string, object?> ToKeyObject() => new(StringComparer.Ordinal)
    {
        ["kind"] = Kind, ["rule"] = Rule, ["seed"] = Seed,
        ["params"] = new SortedDictionary<string, object?>(Params.Where(p => !InputFiles().ContainsKey(p.Key)).ToDictionary(p => p.Key, p => (object?)p.Value), StringComparer.Ordinal),
    };
}

/// <summary>All methods and rules, their parameters and defaults, and how to build them.</summary>
public static class MethodRegistry
{
    /// <summary>Every method kind, each declared in its own file; adding a method adds one line here.</summary>
    public static readonly IReadOnlyList<MethodKind> Kinds =
    [
        VanillaGrad.Declaration, GradXInput.Declaration, IntegratedGradients.Declaration, VanillaGrad.Guided,
        NoiseTunnelMethod.SmoothGrad, NoiseTunnelMethod.SmoothGrad2, NoiseTunnelMethod.VarGrad, IntegratedGradients.SmoothGradIg,
        ExpectedGradients.Declaration, RandomAttribution.Declaration, ImportedMaps.Declaration,
    ];

    /// <summary>gradient: W; guided: W with guided ReLU; pattern: W⊙A (PatternAttribution); patternnet: A.</summary>
    public static readonly IReadOnlyList<string> Rules = new[] { "gradient", "pattern", "patternnet" };

    public static bool RuleUsesPatterns(string rule) => rule is "pattern" or "patternnet";

    public static MethodKind? Find(string kind) => Kinds.FirstOrDefault(k => k.Name == kind);

    public static MethodKind KindOf(ResolvedMethod m) => Find(m.Kind) ?? throw new ArgumentException($"unknown method kind '{m.Kind}'");

    /// <summary>The original's method strings: a kind, optionally prefixed with <c>pattern_</c> (rule pattern).</summary>
    public static (string Kind, string Rule)? ParseShorthand(string s)
    {
        if (Find(s) is { FromFiles: false }) return (s, "gradient");
        if (s.StartsWith("pattern_", StringComparison.Ordinal) && Find(s["pattern_".Length..]) is { } k && k.NeedsBackward)
            return (k.Name, "pattern");
        return null;
    }

    public static IEnumerable<string> ShorthandNames() =>
        Kinds.Where(k => !k.FromFiles).Select(k => k.Name).Concat(Kinds.Where(k => k.NeedsBackward).Select(k => "pattern_" + k.Name));

    /// <summary>Seed and output head of a method under the quirks (spec §4.2, B9, B17).</summary>
    public static (SeedMode Seed, OutputHead Head) SeedFor(ResolvedMethod m, Quirks q) => SeedFor(KindOf(m), m, q);

    static (SeedMode Seed, OutputHead Head) SeedFor(MethodKind kind, ResolvedMethod m, Quirks q)
    {
        bool originalUsesProbability = RuleUsesPatterns(m.Rule) || kind.ProbabilitySeedInOriginal;
        var seed = originalUsesProbability && q.ProbabilitySeedForPatternAndGuided ? SeedMode.Probability : SeedMode.One;
        return (seed, q.BackpropFromSoftmax ? OutputHead.Softmax : OutputHead.Logit);
    }

    public static BackwardRule CreateRule(ResolvedMethod m, SequentialNet net, PatternStream? patterns) => CreateRule(KindOf(m), m, net, patterns);

    /// <summary>The rule for a kind given explicitly (a fingerprint probe of a kind that is not registered).</summary>
    public static BackwardRule CreateRule(MethodKind kind, ResolvedMethod m, SequentialNet net, PatternStream? patterns)
    {
        BackwardRule rule = m.Rule switch
        {
            "gradient" => new GradientRule(net),
            "pattern" => new PatternRule(net, patterns ?? throw new InvalidOperationException($"method '{m.Name}' uses rule pattern but no patterns are loaded")),
            "patternnet" => new PatternNetRule(net, patterns ?? throw new InvalidOperationException($"method '{m.Name}' uses rule patternnet but no patterns are loaded")),
            _ => throw new ArgumentException($"unknown rule '{m.Rule}'"),
        };
        return kind.WrapRule(rule);
    }

    /// <summary>Builds the method over a backward rule. The rule (which may own W⊙A tensors) is created once and reused for every batch.</summary>
    /// <param name="catalog">The dataset's images (id → file name), for kinds that read maps from files.</param>
    public static AttributionMethod Create(ResolvedMethod m, BackwardRule rule, SequentialNet net, Quirks q, long memoryBudgetBytes, Tensor? referenceSet = null,
        IReadOnlyDictionary<long, string>? catalog = null) => Create(KindOf(m), m, rule, net, q, memoryBudgetBytes, referenceSet, catalog);

    /// <summary>Builds a kind given explicitly (a fingerprint probe of a kind that is not registered).</summary>
    public static AttributionMethod Create(MethodKind kind, ResolvedMethod m, BackwardRule rule, SequentialNet net, Quirks q, long memoryBudgetBytes,
        Tensor? referenceSet = null, IReadOnlyDictionary<long, string>? catalog = null)
    {
        var (seed, head) = SeedFor(kind, m, q);
        var grad = new RuleGradient(new Backprop(net, rule, seed, head, memoryBudgetBytes));
        return kind.Build(new MethodBuild(m, grad, q, memoryBudgetBytes, referenceSet, catalog));
    }
}
