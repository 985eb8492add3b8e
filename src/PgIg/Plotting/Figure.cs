using System.Text.RegularExpressions;
using SkiaSharp;

namespace PgIg.Plotting;

/// <summary>
/// Shared drawing plumbing: one draw callback renders both the PNG (raster surface) and the SVG
/// (SKSvgCanvas), so the two files always show the same figure.
/// </summary>
internal static class Figure
{
    /// <summary>Sans family used for every text; ScottPlot's own default resolves to a serif here.</summary>
    public static string SansFamily { get; } = ResolveSans();

    public static readonly SKColor TextColor = new(0x22, 0x22, 0x22);
    public static readonly SKColor MutedTextColor = new(0x55, 0x55, 0x55);

    static string ResolveSans()
    {
        string[] candidates = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "FreeSans"];
        foreach (string name in candidates)
        {
            using SKTypeface? tf = SKFontManager.Default.MatchFamily(name);
            // fontconfig may substitute another family for an unknown name; accept exact matches only
            if (tf is not null && string.Equals(tf.FamilyName, name, StringComparison.OrdinalIgnoreCase))
                return tf.FamilyName;
        }
        return SKTypeface.Default.FamilyName;
    }

    // resolved once and kept for the process: typefaces are shared, immutable font handles
    static readonly SKTypeface Regular = SKTypeface.FromFamilyName(SansFamily, SKFontStyle.Normal) ?? SKTypeface.Default;
    static readonly SKTypeface Bold = SKTypeface.FromFamilyName(SansFamily, SKFontStyle.Bold) ?? SKTypeface.Default;

    public static SKTypeface Typeface(bool bold = false) => bold ? Bold : Regular;

    public static SKFont Font(float size, bool bold = false) =>
        new(Typeface(bold), size) { Edging = SKFontEdging.Antialias, Subpixel = true };

    /// <summary>Renders <paramref name="draw"/> into a PNG and an SVG of the same pixel size.</summary>
    public static void Save(int width, int height, Action<SKCanvas> draw, string pngPath, string svgPath)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        EnsureDirectory(pngPath);
        EnsureDirectory(svgPath);

        using (var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul)))
        {
            surface.Canvas.Clear(SKColors.White);
            draw(surface.Canvas);
            surface.Canvas.Flush();
            using SKImage image = surface.Snapshot();
            using SKData data = image.Encode(SKEncodedImageFormat.Png, 100);
            using FileStream fs = File.Create(pngPath);
            data.SaveTo(fs);
        }

        using var ms = new MemoryStream();
        // the SVG canvas only finishes its document when disposed
        using (SKCanvas canvas = SKSvgCanvas.Create(SKRect.Create(width, height), ms))
        {
            using var bg = new SKPaint { Color = SKColors.White, Style = SKPaintStyle.Fill };
            canvas.DrawRect(SKRect.Create(width, height), bg);
            draw(canvas);
        }
        File.WriteAllText(svgPath, CanonicalSvgIds(System.Text.Encoding.UTF8.GetString(ms.ToArray())));
    }

    // Skia numbers clip/gradient/image ids from a process-wide counter, so the same figure would
    // get different ids on a second save; renumbering in document order keeps the SVG reproducible.
    static readonly Regex SvgIdRef = new(@"(?<=id=""|#)([A-Za-z]+_[0-9A-Fa-f]+)(?=[""')])", RegexOptions.CultureInvariant);

    internal static string CanonicalSvgIds(string svg)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        return SvgIdRef.Replace(svg, m =>
        {
            string id = m.Groups[1].Value;
            if (!map.TryGetValue(id, out string? renamed))
            {
                string prefix = id[..id.LastIndexOf('_')];
                renamed = $"{prefix}_{map.Count}";
                map[id] = renamed;
            }
            return renamed;
        });
    }

    /// <summary>A round tick step (1, 2, 2.5 or 5 × 10^k) giving at most <paramref name="maxTicks"/> ticks.</summary>
    public static double NiceStep(double span, int maxTicks, bool integer = false)
    {
        if (!(span > 0)) return 1;
        double raw = span / Math.Max(1, maxTicks);
        double mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        foreach (double f in new[] { 1, 2, 2.5, 5, 10 })
        {
            double step = f * mag;
            if (integer && step < 1) continue;
            if (integer && step % 1 != 0) continue;
            if (span / step <= maxTicks) return step;
        }
        return 10 * mag;
    }

    /// <summary>
    /// Renders a ScottPlot plot into part of the canvas. The clip matters: ScottPlot clears the
    /// canvas with its background first, which would otherwise wipe everything drawn before.
    /// </summary>
    public static void RenderPlot(SKCanvas canvas, ScottPlot.Plot plot, float left, float top, float right, float bottom)
    {
        // whole pixels: ScottPlot's clear becomes an opaque rect in SVG, and a fractional edge would
        // leave a faint anti-aliased seam under the white background
        (left, top, right, bottom) = (MathF.Round(left), MathF.Round(top), MathF.Round(right), MathF.Round(bottom));
        canvas.Save();
        canvas.ClipRect(new SKRect(left, top, right, bottom));
        plot.Render(canvas, new ScottPlot.PixelRect(left, right, bottom, top));
        canvas.Restore();
    }

    /// <summary>Draws a centred bold title and optional muted subtitle; returns the y just below them.</summary>
    public static float DrawHeader(SKCanvas canvas, float width, string title, string? subtitle,
        float top = 14, float titleSize = 24, float subtitleSize = 17)
    {
        float y = top;
        using var paint = new SKPaint { IsAntialias = true, Color = TextColor };
        if (!string.IsNullOrWhiteSpace(title))
        {
            using SKFont font = Font(titleSize, bold: true);
            y += titleSize;
            canvas.DrawText(FitText(title, font, width - 40), width / 2, y, SKTextAlign.Center, font, paint);
            y += titleSize * 0.35f;
        }
        if (!string.IsNullOrWhiteSpace(subtitle))
        {
            using SKFont font = Font(subtitleSize);
            paint.Color = MutedTextColor;
            y += subtitleSize * 1.05f;
            canvas.DrawText(FitText(subtitle, font, width - 40), width / 2, y, SKTextAlign.Center, font, paint);
            y += subtitleSize * 0.35f;
        }
        return y + 6;
    }

    /// <summary>Shortens text with an ellipsis so it fits <paramref name="maxWidth"/>.</summary>
    public static string FitText(string text, SKFont font, float maxWidth)
    {
        if (font.MeasureText(text) <= maxWidth) return text;
        for (int n = text.Length - 1; n > 1; n--)
        {
            string s = string.Concat(text.AsSpan(0, n), "…");
            if (font.MeasureText(s) <= maxWidth) return s;
        }
        return "…";
    }

    static void EnsureDirectory(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
    }
}
