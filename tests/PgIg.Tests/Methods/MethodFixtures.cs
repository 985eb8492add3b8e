using PgIg.Methods;
using PgIg.Rules;
using static TorchSharp.torch;

namespace PgIg.Tests.Methods;

static class MethodFixtures
{
    /// <summary>A method entry with the registry's defaults, optionally overridden.</summary>
    public static ResolvedMethod Resolve(string kind, string rule = "gradient", long seed = 5, params (string Name, object Value)[] overrides)
    {
        var p = MethodRegistry.Find(kind)!.Params.ToDictionary(s => s.Name, s => s.Default);
        foreach (var (n, v) in overrides) p[n] = v;
        return new ResolvedMethod(rule == "gradient" ? kind : $"{kind}/{rule}", kind, rule, p, seed);
    }

    public static BatchInfo Batch(params long[] ids) => new(ids, 5, string.Join(",", ids));

    public static RuleGradient Grad(Models.SequentialNet net, BackwardRule rule, SeedMode seed, OutputHead head, long budget = Rules.TinyNets.Large) =>
        new(new Backprop(net, rule, seed, head, budget));
}
