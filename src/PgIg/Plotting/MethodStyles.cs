using SkiaSharp;

namespace PgIg.Plotting;

/// <summary>How one method is drawn in every figure.</summary>
/// <param name="Method">The method name as given.</param>
/// <param name="BaseMethod">The method whose color it shares (itself unless it is a pattern twin).</param>
/// <param name="Color">Line / bar color.</param>
/// <param name="IsPattern">Pattern-guided rule: dashed line, hatched bar.</param>
/// <param name="IsBaseline">The <c>random</c> baseline: black solid.</param>
/// <param name="Variant">
/// 0 for the first method of its base and kind (gradient or pattern), 1, 2, ... for further ones such as a
/// second pattern-rule IG with other parameters: each variant gets its own shade, dash pattern and hatching,
/// so that no two methods of a figure look alike.
/// </param>
public sealed record MethodStyle(string Method, string BaseMethod, SKColor Color, bool IsPattern, bool IsBaseline, int Variant = 0)
{
    public bool Dashed => IsPattern;

    /// <summary>On/off lengths of the line (pixels at line width 2.5); empty for a solid line.</summary>
    public float[] DashPattern => Method == MethodStyles.RandomOrder ? [2.5f, 3.5f] : !IsPattern ? [] : (Variant % 4) switch
    {
        0 => [10, 6],           // dashed
        1 => [2.5f, 3.5f],      // dotted
        2 => [12, 4, 2.5f, 4],  // dash-dot
        _ => [22, 6],           // long dash
    };

    /// <summary>Hatch line angles in degrees for pattern bars (45 = rising): one angle, or two for a cross-hatch.</summary>
    public float[] HatchAngles => !IsPattern ? [] : (Variant % 4) switch
    {
        0 => [45],
        1 => [-45],
        2 => [45, -45],
        _ => [0],
    };
}

/// <summary>
/// Method colors and line patterns. Fixes flaw B14 of the original plot, where a method and its
/// pattern twin got the same tab10 color only if two separately sorted lists happened to line up:
/// here the color is a function of the base method, and the pattern twin is dashed.
/// </summary>
public static class MethodStyles
{
    public const string PatternPrefix = "pattern_";
    public const string RandomMethod = "random";

    /// <summary>The random patch order's curve, drawn as a reference line beside the methods (grey, dotted); distinct from
    /// <see cref="RandomMethod"/>, the random map, which a config may list as a method in the same figure.</summary>
    public const string RandomOrder = "random_order";

    /// <summary>matplotlib's tab10.</summary>
    public static IReadOnlyList<SKColor> Tab10 { get; } =
    [
        SKColor.Parse("#1f77b4"), SKColor.Parse("#ff7f0e"), SKColor.Parse("#2ca02c"), SKColor.Parse("#d62728"),
        SKColor.Parse("#9467bd"), SKColor.Parse("#8c564b"), SKColor.Parse("#e377c2"), SKColor.Parse("#7f7f7f"),
        SKColor.Parse("#bcbd22"), SKColor.Parse("#17becf"),
    ];

    // Fixed slots for the spec's methods keep a method's color stable across figures and subsets;
    // grey (slot 7) is left for unknown methods since it is closest to the black random baseline.
    static readonly Dictionary<string, int> KnownSlots = new(StringComparer.Ordinal)
    {
        ["integrate_grad"] = 0, ["vanilla_grad"] = 1, ["grad_x_input"] = 2, ["guided_backprop"] = 3,
        ["smooth_grad"] = 4, ["smooth_grad2"] = 5, ["var_grad"] = 6, ["sg_ig"] = 8, ["exp_grad"] = 9,
    };

    static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["pattern_integrate_grad"] = "PGIG",
        ["pattern_vanilla_grad"] = "PatternAttribution",
    };

    /// <summary>True for names starting with <c>pattern_</c> or listed in <paramref name="patternPairs"/>.</summary>
    public static bool IsPattern(string method, IReadOnlyDictionary<string, string>? patternPairs = null) =>
        method.StartsWith(PatternPrefix, StringComparison.Ordinal) || (patternPairs?.ContainsKey(method) ?? false);

    /// <summary>
    /// The method whose color a method shares: <paramref name="patternPairs"/> (pattern method → base
    /// method) wins, then <c>pattern_X → X</c>, else the method itself.
    /// </summary>
    public static string BaseOf(string method, IReadOnlyDictionary<string, string>? patternPairs = null)
    {
        if (patternPairs is not null && patternPairs.TryGetValue(method, out string? b)) return b;
        if (method.StartsWith(PatternPrefix, StringComparison.Ordinal) && method.Length > PatternPrefix.Length)
            return method[PatternPrefix.Length..];
        return method;
    }

    /// <summary>Legend / axis label: the name, plus the paper's name for the two pattern methods.</summary>
    public static string DisplayName(string method) =>
        Aliases.TryGetValue(method, out string? alias) ? $"{method} ({alias})" : method;

    /// <summary>
    /// Styles for a set of methods. Known methods have fixed colors; unknown base methods take the
    /// free tab10 colors in ordinal name order (cycling if there are more than ten).
    /// </summary>
    public static IReadOnlyDictionary<string, MethodStyle> Assign(
        IEnumerable<string> methods, IReadOnlyDictionary<string, string>? patternPairs = null)
    {
        List<string> names = methods.Distinct(StringComparer.Ordinal).ToList();
        var baseColor = new Dictionary<string, SKColor>(StringComparer.Ordinal);
        var unknownBases = names.Where(m => m != RandomMethod && m != RandomOrder).Select(m => BaseOf(m, patternPairs))
            .Where(b => !KnownSlots.ContainsKey(b)).Distinct(StringComparer.Ordinal)
            .OrderBy(b => b, StringComparer.Ordinal).ToList();

        var used = new HashSet<int>(names.Select(m => BaseOf(m, patternPairs))
            .Where(KnownSlots.ContainsKey).Select(b => KnownSlots[b]));
        // free slots first, grey last among them; then cycle the whole palette
        var free = Enumerable.Range(0, Tab10.Count).Where(i => !used.Contains(i) && i != 7).Append(7)
            .Where(i => !used.Contains(i)).ToList();
        for (int i = 0; i < unknownBases.Count; i++)
            baseColor[unknownBases[i]] = i < free.Count ? Tab10[free[i]] : Tab10[(i - free.Count) % Tab10.Count];
        foreach (var (b, slot) in KnownSlots) baseColor[b] = Tab10[slot];

        // variants: methods sharing base and kind, numbered independently of the order given (so every figure
        // agrees), the canonical name (X, pattern_X) first
        var variant = names.Where(m => m != RandomMethod && m != RandomOrder)
            .GroupBy(m => (Base: BaseOf(m, patternPairs), Pattern: IsPattern(m, patternPairs)))
            .SelectMany(g => g.OrderBy(m => m == (g.Key.Pattern ? PatternPrefix + g.Key.Base : g.Key.Base) ? 0 : 1)
                .ThenBy(m => m, StringComparer.Ordinal).Select((m, i) => (m, i)))
            .ToDictionary(x => x.m, x => x.i, StringComparer.Ordinal);

        var result = new Dictionary<string, MethodStyle>(StringComparer.Ordinal);
        foreach (string m in names)
        {
            if (m == RandomMethod)
            {
                result[m] = new MethodStyle(m, m, SKColors.Black, IsPattern: false, IsBaseline: true);
                continue;
            }
            if (m == RandomOrder)
            {
                result[m] = new MethodStyle(m, m, SKColors.Gray, IsPattern: false, IsBaseline: true);
                continue;
            }
            string b = BaseOf(m, patternPairs);
            int v = variant[m];
            result[m] = new MethodStyle(m, b, Shade(baseColor[b], v), IsPattern(m, patternPairs), IsBaseline: false, v);
        }
        return result;
    }

    /// <summary>Variant 0 keeps the base colour; further variants alternate darker and lighter shades of it.</summary>
    public static SKColor Shade(SKColor c, int variant)
    {
        if (variant == 0) return c;
        float[] amounts = [0.4f, 0.4f, 0.65f, 0.6f]; // darker, lighter, much darker, much lighter
        int k = (variant - 1) % amounts.Length;
        float t = amounts[k];
        byte Mix(byte x, byte target) => (byte)Math.Round(x + (target - x) * t);
        byte to = k % 2 == 0 ? (byte)0 : (byte)255;
        return new SKColor(Mix(c.Red, to), Mix(c.Green, to), Mix(c.Blue, to), c.Alpha);
    }

    /// <summary>
    /// Legend order: random first, then base methods by name, each followed by its pattern twin(s).
    /// </summary>
    public static IReadOnlyList<string> LegendOrder(IReadOnlyDictionary<string, MethodStyle> styles) =>
        styles.Values
            .OrderBy(s => s.IsBaseline ? 0 : 1)
            .ThenBy(s => s.BaseMethod, StringComparer.Ordinal)
            .ThenBy(s => s.IsPattern ? 1 : 0)
            .ThenBy(s => s.Method, StringComparer.Ordinal)
            .Select(s => s.Method).ToList();
}
