using SkiaSharp;

namespace PgIg.Plotting;

/// <summary>One cell: how much better the row method is than the column method (positive = row better), and
/// the Holm-adjusted p-value of that difference.</summary>
public sealed record PairwiseCell(string Row, string Column, double Advantage, double PHolm);

/// <summary>
/// The pairwise-comparison matrix: rows and columns are methods, colour is the row's mean AUC advantage over the
/// column (diverging, symmetric around 0, red = row better), text is the value with Holm significance stars.
/// </summary>
public static class PairwiseMatrix
{
    public static void Save(IReadOnlyList<string> methods, IReadOnlyList<PairwiseCell> cells, string title, string? subtitle,
        string valueLabel, string pngPath, string svgPath)
    {
        if (methods.Count < 2) throw new ArgumentException("a pairwise matrix needs at least two methods", nameof(methods));
        var byPair = cells.ToDictionary(c => (c.Row, c.Column));
        double limit = cells.Select(c => Math.Abs(c.Advantage)).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        if (!(limit > 0)) limit = 1e-6;

        using var labelFont = Figure.Font(15);
        float labelWidth = methods.Max(m => labelFont.MeasureText(MethodStyles.DisplayName(m)));
        int n = methods.Count;
        float cell = n <= 6 ? 110 : n <= 10 ? 84 : 64;
        float left = 70 + labelWidth + 12, header = 100, top = header + labelWidth * 0.72f + 30;
        float gridW = n * cell;
        int width = (int)Math.Ceiling(Math.Max(left + gridW + 190, 900)), height = (int)Math.Ceiling(top + gridW + 90);

        Figure.Save(width, height, canvas =>
        {
            Figure.DrawHeader(canvas, width, title, subtitle);
            using var paint = new SKPaint { IsAntialias = true, Color = Figure.TextColor };
            using var valueFont = Figure.Font(cell >= 84 ? 15 : 12);
            using var axisFont = Figure.Font(18);
            for (int r = 0; r < n; r++)
            {
                float y = top + r * cell;
                paint.Color = Figure.TextColor;
                canvas.DrawText(MethodStyles.DisplayName(methods[r]), left - 10, y + cell / 2 + 5, SKTextAlign.Right, labelFont, paint);
                for (int c = 0; c < n; c++)
                {
                    float x = left + c * cell;
                    var rect = SKRect.Create(x, y, cell, cell);
                    using var fill = new SKPaint { Style = SKPaintStyle.Fill };
                    if (r == c || !byPair.TryGetValue((methods[r], methods[c]), out var v))
                    {
                        fill.Color = new SKColor(0xE6, 0xE6, 0xE6);
                        canvas.DrawRect(rect, fill);
                        continue;
                    }
                    var colour = DivergingColormap.Map(v.Advantage / limit);
                    fill.Color = colour;
                    canvas.DrawRect(rect, fill);
                    // white text on the dark ends of the colormap
                    paint.Color = colour.Red * 0.299 + colour.Green * 0.587 + colour.Blue * 0.114 < 120 ? SKColors.White : Figure.TextColor;
                    string stars = PgIg.Degradation.PairedStatistics.Stars(v.PHolm);
                    canvas.DrawText(v.Advantage.ToString("+0.000;−0.000;0.000"), x + cell / 2, y + cell / 2 + (stars.Length > 0 ? 0 : 5), SKTextAlign.Center, valueFont, paint);
                    if (stars.Length > 0) canvas.DrawText(stars, x + cell / 2, y + cell / 2 + 18, SKTextAlign.Center, valueFont, paint);
                }
            }
            paint.Color = Figure.TextColor;
            // column labels, slanted so long method names fit above narrow cells
            for (int c = 0; c < n; c++)
            {
                canvas.Save();
                canvas.Translate(left + c * cell + cell / 2, top - 8);
                canvas.RotateDegrees(-45);
                canvas.DrawText(MethodStyles.DisplayName(methods[c]), 0, 0, SKTextAlign.Left, labelFont, paint);
                canvas.Restore();
            }
            using var grid = new SKPaint { Style = SKPaintStyle.Stroke, Color = SKColors.White, StrokeWidth = 2, IsAntialias = true };
            for (int k = 0; k <= n; k++)
            {
                canvas.DrawLine(left, top + k * cell, left + gridW, top + k * cell, grid);
                canvas.DrawLine(left + k * cell, top, left + k * cell, top + gridW, grid);
            }
            // axis titles
            canvas.DrawText("method B (column)", left + gridW / 2, top + gridW + 34, SKTextAlign.Center, axisFont, paint);
            canvas.Save();
            canvas.Translate(28, top + gridW / 2);
            canvas.RotateDegrees(-90);
            canvas.DrawText("method A (row)", 0, 0, SKTextAlign.Center, axisFont, paint);
            canvas.Restore();
            using var noteFont = Figure.Font(14);
            paint.Color = Figure.MutedTextColor;
            canvas.DrawText("Holm-adjusted sign-flip test: * p<0.05, ** p<0.01, *** p<0.001", left + gridW / 2, top + gridW + 64, SKTextAlign.Center, noteFont, paint);

            // colour bar
            float bx = left + gridW + 40, bw = 24, bh = Math.Max(gridW, 200);
            for (int k = 0; k < (int)bh; k++)
            {
                using var fill = new SKPaint { Color = DivergingColormap.Map(1 - 2.0 * k / bh), Style = SKPaintStyle.Fill };
                canvas.DrawRect(SKRect.Create(bx, top + k, bw, 1.5f), fill);
            }
            paint.Color = Figure.TextColor;
            foreach (var (t, frac) in new[] { (limit, 0f), (0.0, 0.5f), (-limit, 1f) })
                canvas.DrawText(t.ToString("+0.000;−0.000;0"), bx + bw + 6, top + frac * bh + 5, SKTextAlign.Left, labelFont, paint);
            canvas.Save();
            canvas.Translate(bx + bw + 90, top + bh / 2);
            canvas.RotateDegrees(90);
            canvas.DrawText(valueLabel, 0, 0, SKTextAlign.Center, labelFont, paint);
            canvas.Restore();
        }, pngPath, svgPath);
    }
}
