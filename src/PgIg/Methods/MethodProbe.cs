using PgIg.Config;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>
/// A method's fingerprint (part of its Attribute key): the kind run over its rule on the fixed probe batch
/// (<see cref="ProbeInput"/>), under the quirks its key holds, with synthetic patterns, so it covers that method and
/// rule only: a change to one method moves its own Attribute units (and, through them, its Degrade units and Plots).
/// Integer parameters are 3 (the code path is the same at any count); the others keep their defaults.
/// </summary>
public static class MethodProbe
{
    /// <summary>What a probe explains: the kind, its rule and the quirks.</summary>
    public sealed record Request(MethodKind Kind, string Rule, Quirks Quirks);

    public static string Fingerprint(Fingerprints fingerprints, MethodKind kind, string rule, Quirks q) =>
        fingerprints.Of($"method/{kind.Name}/{(kind.NeedsBackward ? rule : "-")}/{Hashing.CanonicalJson(kind.KeyQuirks(q))}", d => Run(d, new Request(kind, rule, q)));

    /// <summary>Runs the kind's probe into <paramref name="d"/>, without any memo.</summary>
    public static void Run(NumericDigest d, Request r) => (r.Kind.Probe ?? Standard)(d, r);

    /// <summary>Ids of the probe batch's images (per-image seeds and imported maps use them).</summary>
    public static long[] ImageIds => Enumerable.Range(10, ProbeInput.Images).Select(i => (long)i).ToArray();

    /// <summary>The kind built over the rule on the probe network, explaining the probe batch.</summary>
    public static void Standard(NumericDigest d, Request r)
    {
        var kind = r.Kind;
        using var net = ProbeInput.Net();
        using var scope = torch.NewDisposeScope();
        var parameters = kind.Params.ToDictionary(p => p.Name, p => p.Type switch
        {
            ParamType.Int => (object)3,
            ParamType.Path => throw new InvalidOperationException($"method kind '{kind.Name}' reads files: its declaration must set Probe"),
            _ => p.Default,
        });
        var m = new ResolvedMethod("probe", kind.Name, r.Rule, parameters, 7);
        using var patterns = MethodRegistry.RuleUsesPatterns(r.Rule)
            ? new PatternSet(net.WeightedLayers.Select((l, i) => ProbeInput.Tensor($"pattern{i}", l.Weight.shape)).ToList()) : null;
        using var rule = MethodRegistry.CreateRule(kind, m, net, patterns);
        var reference = kind.UsesReferenceSet(r.Quirks) ? ProbeInput.Tensor("reference", 6, ProbeInput.Channels, ProbeInput.Size, ProbeInput.Size) : null;
        var method = MethodRegistry.Create(kind, m, rule, net, r.Quirks, 64L << 20, reference);
        d.Add("map", method.Attribute(ProbeInput.Input(), ProbeInput.Targets(), new BatchInfo(ImageIds, m.Seed, "probe")));
    }
}
