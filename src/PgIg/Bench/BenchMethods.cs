using System.Globalization;
using PgIg.Config;
using PgIg.Methods;

namespace PgIg.Bench;

/// <summary>
/// Method strings for <c>pgig bench</c>: a config shorthand (e.g. <c>pattern_integrate_grad</c>) with optional
/// parameter overrides, <c>sg_ig:steps=5:n_samples=5</c>.
/// </summary>
public static class BenchMethods
{
    /// <summary>Every method kind once, plus the two pattern methods of the paper (PA and PGIG).</summary>
    public static readonly IReadOnlyList<string> Default =
    [
        "vanilla_grad", "pattern_vanilla_grad", "grad_x_input", "integrate_grad", "pattern_integrate_grad",
        "guided_backprop", "smooth_grad", "smooth_grad2", "var_grad", "sg_ig", "exp_grad", "random",
    ];

    /// <summary>
    /// --quick sizes: IG with 4 steps (α = 1/4, 1/2, 3/4 in faithful mode; not 3, where np.arange(1/3, 1, 1/3)
    /// has a third element through rounding), 2 noise/baseline samples.
    /// </summary>
    static readonly IReadOnlyDictionary<string, object> QuickParams = new Dictionary<string, object>
    {
        ["steps"] = 4, ["n_samples"] = 2,
    };

    public static IReadOnlyList<string> Split(string? list) =>
        string.IsNullOrWhiteSpace(list)
            ? Default
            : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static ResolvedMethod Parse(string text, bool quick, long seed)
    {
        var parts = text.Split(':');
        var parsed = MethodRegistry.ParseShorthand(parts[0])
            ?? throw new ArgumentException($"unknown method '{parts[0]}'; valid methods: {string.Join(", ", MethodRegistry.ShorthandNames())}");
        var kind = MethodRegistry.Find(parsed.Kind)!;
        var values = kind.Params.ToDictionary(p => p.Name, p => quick && QuickParams.TryGetValue(p.Name, out var q) ? q : p.Default);
        foreach (var assignment in parts.Skip(1))
        {
            var kv = assignment.Split('=', 2);
            var spec = kv.Length == 2 ? kind.Params.FirstOrDefault(p => p.Name == kv[0]) : null;
            if (spec is null)
                throw new ArgumentException($"'{assignment}' in '{text}': expected name=value with a parameter of {kind.Name} ({(kind.Params.Count == 0 ? "it has none" : string.Join(", ", kind.Params.Select(p => p.Name)))})");
            values[spec.Name] = spec.Type switch
            {
                ParamType.Int when int.TryParse(kv[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && i >= 1 => i,
                ParamType.Double when double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && d >= 0 => d,
                _ => throw new ArgumentException($"'{assignment}' in '{text}': {spec.Name} must be a {(spec.Type == ParamType.Int ? "positive integer" : "non-negative number")}"),
            };
        }
        return new ResolvedMethod(text, parsed.Kind, parsed.Rule, values, seed);
    }

    /// <summary>Parameters as shown in result tables, e.g. "steps=25".</summary>
    public static string Describe(ResolvedMethod m) =>
        m.Params.Count == 0 ? "" : string.Join(" ", m.Params.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={Convert.ToString(p.Value, CultureInfo.InvariantCulture)}"));

    /// <summary>
    /// The bench runs the faithful protocol, except that exp_grad takes its baselines from a fixed reference
    /// set instead of the other batch images (the faithful variant needs batch &gt; n_samples); the number
    /// of passes per image is the same either way.
    /// </summary>
    public static Quirks Quirks { get; } = Quirks.Faithful with { ExpGradBatchBaselines = false };
}
