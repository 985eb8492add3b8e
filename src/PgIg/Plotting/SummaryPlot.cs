using ScottPlot;
using SkiaSharp;

namespace PgIg.Plotting;

/// <summary>Summary numbers of one method's degradation curve with their 95% confidence intervals.</summary>
public sealed record SummaryRow(string Method, double Auc, double AucLow, double AucHigh, double Aopc, double AopcLow, double AopcHigh);

/// <summary>
/// Two horizontal bar panels (AUC left, AOPC right) sharing one method axis, best method on top: lowest
/// AUC for most-relevant-first orders, highest for least-relevant-first ones (where removing the least
/// relevant patches should keep the prediction). Pattern methods are hatched in their base method's color.
/// Each axis is fitted to its values and their CIs; when it does not start at 0 (values far from 0 look
/// alike on a 0-based axis) the axis label says where it starts.
/// </summary>
public static class SummaryPlot
{
    const int Width = 1300;
    const double BarSize = 0.7;
    const float FooterHeight = 44;

    public static void Save(IReadOnlyList<SummaryRow> rows, string title, string pngPath, string svgPath) =>
        Save(rows, title, subtitle: null, patternPairs: null, pngPath, svgPath);

    public static void Save(IReadOnlyList<SummaryRow> rows, string title, string? subtitle,
        IReadOnlyDictionary<string, string>? patternPairs, string pngPath, string svgPath, bool higherAucIsBetter = false)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("no rows to plot", nameof(rows));
        if (rows.Select(r => r.Method).Distinct(StringComparer.Ordinal).Count() != rows.Count)
            throw new ArgumentException("method names must be unique", nameof(rows));

        // best first, top to bottom: bar position n−1 is drawn at the top
        List<SummaryRow> sorted = rows.OrderBy(r => double.IsNaN(r.Auc) ? double.PositiveInfinity : higherAucIsBetter ? -r.Auc : r.Auc)
            .ThenBy(r => r.Method, StringComparer.Ordinal).ToList();
        var styles = MethodStyles.Assign(sorted.Select(r => r.Method), patternPairs);

        Plot auc = Panel(sorted, styles, r => (r.Auc, r.AucLow, r.AucHigh),
            higherAucIsBetter ? "AUC (higher = better)" : "AUC (lower = better)", "area under the degradation curve", showMethodLabels: true);
        Plot aopc = Panel(sorted, styles, r => (r.Aopc, r.AopcLow, r.AopcHigh),
            higherAucIsBetter ? "AOPC (lower = better)" : "AOPC (higher = better)", "area over the perturbation curve", showMethodLabels: false);

        int height = (int)Math.Max(480, 150 + 46 * sorted.Count + (subtitle is null ? 50 : 75));
        Figure.Save(Width, height, canvas =>
        {
            float top = Figure.DrawHeader(canvas, Width, title, subtitle);
            float bottom = height - FooterHeight;
            // the left panel also carries the method names, so it gets the wider share
            float split = Width * 0.58f;
            Figure.RenderPlot(canvas, auc, 0, top, split, bottom);
            Figure.RenderPlot(canvas, aopc, split, top, Width, bottom);
            DrawFooter(canvas, height, styles.Values.Any(s => s.IsPattern), higherAucIsBetter);
        }, pngPath, svgPath);
    }

    static Plot Panel(List<SummaryRow> rows, IReadOnlyDictionary<string, MethodStyle> styles,
        Func<SummaryRow, (double V, double Lo, double Hi)> pick, string title, string xLabel, bool showMethodLabels)
    {
        var plot = new Plot();
        PlotStyle.Apply(plot);
        int n = rows.Count;
        var values = rows.SelectMany(r => { var (v, l, h) = pick(r); return new[] { v, l, h }; }).Where(double.IsFinite).ToList();
        double lo = values.DefaultIfEmpty(0).Min(), hi = values.DefaultIfEmpty(0).Max();
        double axisLo = AxisStart(lo, hi);
        var bars = new List<Bar>();
        var hatched = new List<(CoordinateRect, Color, float[])>();
        var xs = new List<double>();
        var ys = new List<double>();
        var errPos = new List<double>();
        var errNeg = new List<double>();
        for (int i = 0; i < n; i++)
        {
            SummaryRow r = rows[i];
            (double v, double l, double h) = pick(r);
            double y = n - 1 - i;
            MethodStyle s = styles[r.Method];
            // black bars would be too heavy next to the palette; random stays neutral dark grey
            Color fill = s.IsBaseline ? new Color(0x66, 0x66, 0x66) : PlotStyle.ToColor(s.Color);
            var bar = new Bar
            {
                Position = y,
                Value = double.IsFinite(v) ? v : axisLo,
                ValueBase = axisLo,
                Size = BarSize,
                // pattern bars: light fill + outline + hatch (drawn by HatchOverlay) in the base color
                FillColor = s.IsPattern ? fill.WithAlpha(0.35) : fill,
                LineColor = fill,
                LineWidth = s.IsPattern ? 2 : 0,
            };
            if (s.IsPattern)
                hatched.Add((new CoordinateRect(Math.Min(axisLo, bar.Value), Math.Max(axisLo, bar.Value), y - BarSize / 2, y + BarSize / 2), fill, s.HatchAngles));
            bars.Add(bar);

            if (double.IsFinite(v) && double.IsFinite(l) && double.IsFinite(h))
            {
                xs.Add(v); ys.Add(y);
                errPos.Add(Math.Max(0, h - v));
                errNeg.Add(Math.Max(0, v - l));
            }
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        if (hatched.Count > 0) plot.Add.Plottable(new HatchOverlay(hatched));

        if (xs.Count > 0)
        {
            var zeros = new double[xs.Count];
            var eb = new ScottPlot.Plottables.ErrorBar(xs, ys, errPos, errNeg, zeros, zeros)
            {
                LineColor = new Color(0x22, 0x22, 0x22),
                LineWidth = 1.8f,
                CapSize = 7,
            };
            plot.Add.Plottable(eb);
        }

        double span = Math.Max(hi - Math.Min(lo, axisLo), 1e-9);
        for (int i = 0; i < n; i++)
        {
            (double v, double l, double h) = pick(rows[i]);
            if (!double.IsFinite(v)) continue;
            bool hasCi = double.IsFinite(l) && double.IsFinite(h);
            double anchor = hasCi ? Math.Max(h, v) : v;
            if (v < axisLo) anchor = Math.Max(axisLo, anchor);
            var t = plot.Add.Text(v.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), anchor + 0.015 * span, n - 1 - i);
            t.LabelFontSize = 14;
            t.LabelFontName = Figure.SansFamily;
            t.LabelFontColor = new Color(0x33, 0x33, 0x33);
            t.LabelAlignment = Alignment.MiddleLeft;
        }

        // room on the right for the value labels
        plot.Axes.SetLimitsX(lo < axisLo ? lo - 0.05 * span : axisLo, hi + 0.2 * span);
        plot.Axes.SetLimitsY(-0.6, n - 0.4);

        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < n; i++)
            ticks.AddMajor(n - 1 - i, showMethodLabels ? MethodStyles.DisplayName(rows[i].Method) : "");
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.Left.MajorTickStyle.Length = showMethodLabels ? 4 : 0;
        plot.Axes.Left.TickLabelStyle.FontSize = 15;
        plot.Grid.YAxisStyle.MajorLineStyle.Width = 0;

        plot.Title(title, 19);
        plot.Axes.Title.Label.Bold = false;
        plot.XLabel(axisLo != 0 ? $"{xLabel} (axis starts at {axisLo.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}, not 0)" : xLabel, 16);
        return plot;
    }

    /// <summary>
    /// Where the value axis starts: 0 when the values reach down near it (or below it), else a round
    /// number a little below the smallest value or CI bound, so that the differences between methods show.
    /// </summary>
    public static double AxisStart(double lo, double hi)
    {
        if (!(lo > 0) || !(hi > lo) || lo <= 0.25 * hi) return 0;
        double step = Figure.NiceStep(hi - lo, 4);
        return Math.Max(0, Math.Floor((lo - 0.15 * (hi - lo)) / step) * step);
    }

    static void DrawFooter(SKCanvas canvas, int height, bool anyPattern, bool higherAucIsBetter)
    {
        using SKFont font = Figure.Font(15);
        using var paint = new SKPaint { IsAntialias = true, Color = Figure.MutedTextColor };
        string note = $"whiskers: 95% CI · sorted by AUC, best {(higherAucIsBetter ? "LeRF" : "MoRF")} method on top"
                      + (anyPattern ? " · hatched: pattern-guided method (its base method's colour; shade and hatching tell variants apart)" : "");
        canvas.DrawText(Figure.FitText(note, font, Width - 40), Width / 2f, height - 16, SKTextAlign.Center, font, paint);
    }
}

/// <summary>
/// Diagonal hatching drawn as plain lines. ScottPlot's own hatch is a bitmap shader, which the SVG
/// export drops; lines survive in both outputs. Added after the bars and before the error bars so
/// the whiskers stay on top.
/// </summary>
internal sealed class HatchOverlay(IReadOnlyList<(CoordinateRect Rect, Color Color, float[] Angles)> rects) : IPlottable
{
    const float Spacing = 7;

    public bool IsVisible { get; set; } = true;
    public IAxes Axes { get; set; } = new Axes();
    public IEnumerable<LegendItem> LegendItems => [];

    public AxisLimits GetAxisLimits() => AxisLimits.NoLimits;

    public void Render(RenderPack rp)
    {
        using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 1.6f };
        foreach ((CoordinateRect rect, Color color, float[] angles) in rects)
        {
            PixelRect px = Axes.GetPixelRect(rect);
            if (px.Width <= 0 || px.Height <= 0) continue;
            paint.Color = new SKColor(color.R, color.G, color.B, color.A);
            rp.Canvas.Save();
            rp.Canvas.ClipRect(new SKRect(px.Left, px.Top, px.Right, px.Bottom));
            // anchored to the bar's left edge so the pattern is the same in every bar; the angle tells variants apart
            foreach (float angle in angles)
            {
                if (angle == 0)
                    for (float y = px.Top + Spacing / 2; y < px.Bottom; y += Spacing) rp.Canvas.DrawLine(px.Left, y, px.Right, y, paint);
                else if (angle > 0)
                    for (float x = px.Left - px.Height; x < px.Right; x += Spacing) rp.Canvas.DrawLine(x, px.Bottom, x + px.Height, px.Top, paint);
                else
                    for (float x = px.Left - px.Height; x < px.Right; x += Spacing) rp.Canvas.DrawLine(x, px.Top, x + px.Height, px.Bottom, paint);
            }
            rp.Canvas.Restore();
        }
    }
}
