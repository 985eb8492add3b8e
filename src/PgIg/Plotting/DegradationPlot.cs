using ScottPlot;
using SkiaSharp;

namespace PgIg.Plotting;

/// <summary>One method's degradation curve: mean over images of p(predicted class) after k patches.</summary>
/// <param name="Name">Method name (e.g. <c>integrate_grad</c>, <c>pattern_integrate_grad</c>, <c>random</c>).</param>
/// <param name="Mean">curve[k] for k = 0 … n−1 degraded patches.</param>
/// <param name="Lower">Optional lower confidence bound per k (drawn as a translucent band with <paramref name="Upper"/>).</param>
/// <param name="Upper">Optional upper confidence bound per k.</param>
public sealed record CurveSeries(string Name, double[] Mean, double[]? Lower = null, double[]? Upper = null);

public sealed record DegradationPlotOptions
{
    public string Title { get; init; } = "Degradation (MoRF): mean p(predicted class)";

    /// <summary>Second header line, e.g. "Fashion-MNIST, 1000 images, faithful protocol".</summary>
    public string? Subtitle { get; init; }

    public string XLabel { get; init; } = "# patches degraded";
    public string YLabel { get; init; } = "mean p(class predicted on clean image)";

    /// <summary>Extra pattern method → base method pairs beyond the <c>pattern_X → X</c> naming rule.</summary>
    public IReadOnlyDictionary<string, string>? PatternPairs { get; init; }

    /// <summary>Label for the CI band in the note under the legend (shown only if any band is drawn).</summary>
    public string BandLabel { get; init; } = "shaded: 95% CI";

    /// <summary>Start the y axis at 0 (probabilities); otherwise it fits the data.</summary>
    public bool YFromZero { get; init; } = true;

    /// <summary>Labels of the x positions 0, 1, … in place of numbers (the Sanity stage's randomisation levels).</summary>
    public IReadOnlyList<string>? XTickLabels { get; init; }

    public int Width { get; init; } = 1200;
    public int Height { get; init; } = 800;
}

/// <summary>
/// The degradation-curve figure (spec §7.5, with the B14 flaws fixed: axis labels, title, paired
/// colors, and the PNG written without an interactive show()).
/// </summary>
public static class DegradationPlot
{
    public static void Save(IReadOnlyList<CurveSeries> curves, DegradationPlotOptions opts, string pngPath, string svgPath)
    {
        ArgumentNullException.ThrowIfNull(curves);
        ArgumentNullException.ThrowIfNull(opts);
        if (curves.Count == 0) throw new ArgumentException("no curves to plot", nameof(curves));
        foreach (CurveSeries c in curves) Validate(c);
        if (curves.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count() != curves.Count)
            throw new ArgumentException("curve names must be unique", nameof(curves));

        Plot plot = Build(curves, opts);
        Figure.Save(opts.Width, opts.Height, canvas =>
        {
            float top = Figure.DrawHeader(canvas, opts.Width, opts.Title, opts.Subtitle);
            Figure.RenderPlot(canvas, plot, 0, top, opts.Width, opts.Height);
        }, pngPath, svgPath);
    }

    static void Validate(CurveSeries c)
    {
        if (string.IsNullOrEmpty(c.Name)) throw new ArgumentException("curve without a name");
        if (c.Mean is null || c.Mean.Length == 0) throw new ArgumentException($"curve '{c.Name}' is empty");
        if ((c.Lower is null) != (c.Upper is null))
            throw new ArgumentException($"curve '{c.Name}': give both Lower and Upper, or neither");
        if (c.Lower is not null && (c.Lower.Length != c.Mean.Length || c.Upper!.Length != c.Mean.Length))
            throw new ArgumentException($"curve '{c.Name}': band length differs from the mean's");
    }

    static Plot Build(IReadOnlyList<CurveSeries> curves, DegradationPlotOptions opts)
    {
        var plot = new Plot();
        PlotStyle.Apply(plot);

        var styles = MethodStyles.Assign(curves.Select(c => c.Name), opts.PatternPairs);
        var byName = curves.ToDictionary(c => c.Name, StringComparer.Ordinal);
        IReadOnlyList<string> order = MethodStyles.LegendOrder(styles);

        // bands first so every line sits on top of every band
        bool anyBand = false;
        foreach (string name in order)
        {
            CurveSeries c = byName[name];
            if (c.Lower is null || c.Upper is null) continue;
            anyBand = true;
            Color bandColor = PlotStyle.ToColor(styles[name].Color).WithAlpha(styles[name].IsBaseline ? 0.12 : 0.16);
            double[] lower = c.Lower, upper = c.Upper;
            foreach ((int start, int len) in FiniteRuns(c.Mean.Length, k => double.IsFinite(lower[k]) && double.IsFinite(upper[k])))
            {
                if (len < 2) continue;
                var fill = plot.Add.FillY(Xs(start, len), lower[start..(start + len)], upper[start..(start + len)]);
                fill.FillColor = bandColor;
                fill.LineWidth = 0;
                fill.MarkerSize = 0;
            }
        }

        // markers only where single points would otherwise be invisible or a short run needs them
        int nMax = curves.Max(c => c.Mean.Length);
        bool markers = nMax <= 15;

        // the random baselines are drawn last (on top) because they are the references every method is judged against
        foreach (string name in order.Where(n => !styles[n].IsBaseline).Append(MethodStyles.RandomOrder).Append(MethodStyles.RandomMethod))
        {
            if (!byName.TryGetValue(name, out CurveSeries? c)) continue;
            MethodStyle s = styles[name];
            // NaN would break the whole path; draw each finite run as its own line
            double[] mean = c.Mean;
            foreach ((int start, int len) in FiniteRuns(mean.Length, k => double.IsFinite(mean[k])))
            {
                var line = plot.Add.ScatterLine(Xs(start, len), mean[start..(start + len)]);
                line.Color = PlotStyle.ToColor(s.Color);
                line.LineWidth = 2.5f;
                line.LinePattern = LineOf(s, 1);
                line.MarkerSize = markers || len == 1 ? 7 : 0;
                line.MarkerShape = MarkerFor(s);
            }
        }

        // legend items in pair order (random first) rather than drawing order; plottables carry no
        // LegendText, so only these manual items are listed
        foreach (string name in order)
        {
            MethodStyle s = styles[name];
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = MethodStyles.DisplayName(name),
                LineColor = PlotStyle.ToColor(s.Color),
                LineWidth = 3,
                LinePattern = LineOf(s, 0.8f),
                MarkerShape = markers ? MarkerFor(s) : MarkerShape.None,
                MarkerSize = 7,
                MarkerColor = PlotStyle.ToColor(s.Color),
            });
        }
        if (anyBand)
        {
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = opts.BandLabel,
                FillColor = Colors.Gray.WithAlpha(0.25),
                LineWidth = 0,
                MarkerShape = MarkerShape.None,
            });
        }
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontSize = 15;
        plot.Legend.FontName = Figure.SansFamily;
        plot.Legend.SymbolWidth = 36;
        plot.Legend.OutlineColor = Colors.Gray.WithAlpha(0.5);
        plot.Legend.ShadowColor = Colors.Transparent;
        // otherwise ScottPlot swaps in its own "best" font on every render
        plot.Legend.SetBestFontOnEachRender = false;

        plot.XLabel(opts.XLabel, 18);
        plot.YLabel(opts.YLabel, 18);

        int n = nMax;
        double yMax = curves.Max(c => Math.Max(MaxFinite(c.Mean), c.Upper is null ? double.NegativeInfinity : MaxFinite(c.Upper)));
        double yMin = curves.Min(c => Math.Min(MinFinite(c.Mean), c.Lower is null ? double.PositiveInfinity : MinFinite(c.Lower)));
        if (!double.IsFinite(yMax)) yMax = 1;
        if (!double.IsFinite(yMin)) yMin = 0;
        double lo = opts.YFromZero ? Math.Min(0, yMin) : yMin;
        double span = Math.Max(yMax - lo, 1e-6);
        double xSpan = Math.Max(n - 1, 1);
        plot.Axes.SetLimitsX(-0.01 * xSpan, 1.01 * xSpan);
        plot.Axes.SetLimitsY(opts.YFromZero && yMin >= 0 ? 0 : lo - 0.03 * span, yMax + 0.04 * span);
        if (opts.XTickLabels is { } labels)
        {
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            for (int i = 0; i < labels.Count; i++) ticks.AddMajor(i, labels[i]);
            plot.Axes.Bottom.TickGenerator = ticks;
        }
        else plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(Figure.NiceStep(xSpan, 12, integer: true));
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(Figure.NiceStep(yMax - lo, 10));
        return plot;
    }

    static MarkerShape MarkerFor(MethodStyle s) => (s.IsPattern, s.Variant % 4) switch
    {
        (true, 0) => MarkerShape.OpenCircle, (true, 1) => MarkerShape.OpenSquare, (true, 2) => MarkerShape.OpenTriangleUp, (true, _) => MarkerShape.OpenDiamond,
        (false, 0) => MarkerShape.FilledCircle, (false, 1) => MarkerShape.FilledSquare, (false, 2) => MarkerShape.FilledTriangleUp, _ => MarkerShape.FilledDiamond,
    };

    /// <summary>The method's dash pattern (solid when it has none), lengths scaled for the legend's shorter sample.</summary>
    static LinePattern LineOf(MethodStyle s, float scale) =>
        s.DashPattern is { Length: > 0 } d ? new LinePattern(d.Select(x => x * scale).ToArray(), 0, $"variant {s.Variant}") : LinePattern.Solid;

    static double[] Xs(int start, int n) => Enumerable.Range(start, n).Select(i => (double)i).ToArray();

    /// <summary>Maximal runs of consecutive indices where <paramref name="ok"/> holds.</summary>
    static IEnumerable<(int Start, int Length)> FiniteRuns(int n, Func<int, bool> ok)
    {
        int start = -1;
        for (int k = 0; k <= n; k++)
        {
            bool good = k < n && ok(k);
            if (good && start < 0) start = k;
            else if (!good && start >= 0)
            {
                yield return (start, k - start);
                start = -1;
            }
        }
    }
    static double MaxFinite(double[] a) => a.Where(double.IsFinite).DefaultIfEmpty(double.NegativeInfinity).Max();
    static double MinFinite(double[] a) => a.Where(double.IsFinite).DefaultIfEmpty(double.PositiveInfinity).Min();
}

/// <summary>ScottPlot styling shared by the line and bar figures.</summary>
internal static class PlotStyle
{
    public static void Apply(Plot plot)
    {
        plot.Font.Set(Figure.SansFamily);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 15;
        plot.Axes.Left.TickLabelStyle.FontSize = 15;
        plot.Axes.Bottom.Label.FontSize = 18;
        plot.Axes.Left.Label.FontSize = 18;
        plot.Axes.Bottom.Label.Bold = false;
        plot.Axes.Left.Label.Bold = false;
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.09);
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Colors.White;
        plot.Axes.Color(new Color(0x33, 0x33, 0x33));
    }

    public static Color ToColor(SKColor c) => new(c.Red, c.Green, c.Blue, c.Alpha);
}
