using PgIg.Config;
using PgIg.Rules;
using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>A parameter's type; <see cref="Path"/> names a file whose content, not its name, enters the Attribute key.</summary>
public enum ParamType { Int, Double, Bool, Path }

/// <summary>One tunable parameter of a method; the default is the original's (spec §5).</summary>
public sealed record ParamSpec(string Name, ParamType Type, object Default, string Doc)
{
    public static ParamSpec Steps => new("steps", ParamType.Int, 25, "integration steps m (faithful: α = k/m for k = 1…m−1, divided by m)");
    public static ParamSpec Spread => new("stdev_spread", ParamType.Double, 0.15, "noise σ as a fraction of the input range (max − min)");
    public static ParamSpec Samples(int n) => new("n_samples", ParamType.Int, n, "number of samples");
}

/// <summary>What a method is built from: its config entry, the rule's gradient, the quirks and the memory budget.</summary>
/// <param name="ReferenceSet">Images a method draws baselines from, where <see cref="MethodKind.UsesReferenceSet"/> says so.</param>
/// <param name="Catalog">Every image of the dataset (id → file name), for kinds that read maps from files (<see cref="MethodKind.FromFiles"/>).</param>
public sealed record MethodBuild(ResolvedMethod Method, IGradientSource Gradient, Quirks Quirks, long MemoryBudgetBytes, Tensor? ReferenceSet,
    IReadOnlyDictionary<long, string>? Catalog = null)
{
    /// <summary>A noise tunnel around the rule's gradient with the method's σ spread and sample count.</summary>
    public NoiseTunnel Tunnel(NoiseReduction reduction) => new(Gradient, reduction, Method.Double("stdev_spread"), Method.Int("n_samples"),
        new NoiseQuirks(Quirks.CumulativeNoise, Quirks.CumulativeGradient, Quirks.BatchSigma), MemoryBudgetBytes);
}

/// <summary>
/// A method family known to the pipeline, declared next to its code (one per method file): its parameters,
/// how to build it, and what of the config enters its cache key besides its own parameters.
/// </summary>
/// <param name="NeedsBackward">False for methods that use no gradient (random): no rule, no backward quirks in the key.</param>
public sealed record MethodKind(string Name, IReadOnlyList<ParamSpec> Params, string Doc, Func<MethodBuild, AttributionMethod> Build, bool NeedsBackward = true)
{
    /// <summary>The quirks (config name → value) that change this kind's maps, besides the backward pass's own (B9, B17).</summary>
    public Func<Quirks, IEnumerable<(string Name, bool Value)>> OwnQuirks { get; init; } = _ => [];
    /// <summary>True where the original couples the images of a batch, so the batch's composition enters the key (spec §7.6).</summary>
    public Func<Quirks, bool> BatchCoupled { get; init; } = _ => false;
    /// <summary>True where the maps depend on a fixed reference set of images (the first evaluation shard).</summary>
    public Func<Quirks, bool> UsesReferenceSet { get; init; } = _ => false;
    /// <summary>Wraps the configured rule (guided backprop puts guided ReLUs around any rule).</summary>
    public Func<BackwardRule, BackwardRule> WrapRule { get; init; } = r => r;
    /// <summary>The original seeds this kind's backward with p_c under B17, as it does for pattern rules.</summary>
    public bool ProbabilitySeedInOriginal { get; init; }
    /// <summary>Maps read from files the config names ({name, maps, ids}): no shorthand, no <c>method:</c> entry.</summary>
    public bool FromFiles { get; init; }
    /// <summary>How this kind's fingerprint is probed (<see cref="MethodProbe"/>): null builds the kind over the rule on the
    /// probe network, which fits every kind computed from the model; kinds that read files must set their own.</summary>
    public Action<PgIg.Pipeline.NumericDigest, MethodProbe.Request>? Probe { get; init; }
    /// <summary>Checks a configured method's inputs (its files) when the pipeline is planned; throws what is wrong.</summary>
    public Action<ResolvedMethod> Validate { get; init; } = _ => { };

    /// <summary>The quirks that enter an Attribute key of this kind: the backward pass's and the kind's own.</summary>
    public SortedDictionary<string, object?> KeyQuirks(Quirks q)
    {
        var quirks = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        if (NeedsBackward)
            foreach (var (name, value) in Backprop.KeyQuirks(q)) quirks[name] = value;
        foreach (var (name, value) in OwnQuirks(q)) quirks[name] = value;
        return quirks;
    }
}
