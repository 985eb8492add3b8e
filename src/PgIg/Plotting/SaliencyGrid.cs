using System.Globalization;
using SkiaSharp;

namespace PgIg.Plotting;

/// <summary>
/// One input image, stored as the model saw it, plus how to undo the preprocessing for display.
/// Shown intensity of channel c, in [0, 1]: <c>clamp(Pixels[c, y, x] · Scale + ChannelMean[c], 0, 1)</c>,
/// i.e. <see cref="Scale"/> and <see cref="ChannelMean"/> are in display units (0 … 1).
/// Use <see cref="FromNormalized"/> for <c>(raw − mean) / std</c> data with raw in [0, 1]
/// (Fashion-MNIST) and <see cref="FromCaffeBgr"/> for BGR, 0–255, mean-subtracted data (Caffe VGG16).
/// </summary>
/// <param name="Label">Row label, e.g. "tusker (p = 0.93)".</param>
/// <param name="Pixels">C·H·W values, channel-major.</param>
/// <param name="Channels">1 (grey) or 3.</param>
/// <param name="Bgr">3-channel data stored as B, G, R (swapped to RGB for display).</param>
/// <param name="ChannelMean">Added back after scaling; one value (used for all channels) or one per channel.</param>
/// <param name="Scale">Multiplies the stored value first.</param>
public sealed record GridImage(string Label, float[] Pixels, int Channels, bool Bgr, float[] ChannelMean, float Scale)
{
    /// <summary>Data normalised as <c>(raw − mean) / std</c> with raw in [0, 1], e.g. Fashion-MNIST.</summary>
    public static GridImage FromNormalized(string label, float[] pixels, int channels, float mean, float std) =>
        new(label, pixels, channels, Bgr: false, [mean], std);

    /// <summary>Caffe VGG16 input: BGR, 0–255, with <paramref name="meanBgr"/> (0–255 units) subtracted.</summary>
    public static GridImage FromCaffeBgr(string label, float[] pixels, float[] meanBgr) =>
        new(label, pixels, 3, Bgr: true, meanBgr.Select(m => m / 255f).ToArray(), 1f / 255f);

    /// <summary>Display RGB bytes (row-major, 3 per pixel) for an H×W image.</summary>
    public byte[] ToRgb(int height, int width)
    {
        int hw = height * width;
        if (Channels is not (1 or 3)) throw new ArgumentException($"image '{Label}': {Channels} channels, expected 1 or 3");
        if (Pixels.Length != Channels * hw)
            throw new ArgumentException($"image '{Label}': {Pixels.Length} values, expected {Channels}×{height}×{width}");
        if (ChannelMean.Length != 1 && ChannelMean.Length != Channels)
            throw new ArgumentException($"image '{Label}': ChannelMean needs 1 or {Channels} values");

        var rgb = new byte[hw * 3];
        for (int i = 0; i < hw; i++)
        {
            for (int o = 0; o < 3; o++)
            {
                // output channel o (R, G, B) reads stored channel: grey → 0; BGR → reversed
                int c = Channels == 1 ? 0 : Bgr ? 2 - o : o;
                float mean = ChannelMean.Length == 1 ? ChannelMean[0] : ChannelMean[c];
                float v = Pixels[c * hw + i] * Scale + mean;
                rgb[i * 3 + o] = float.IsFinite(v) ? (byte)Math.Round(Math.Clamp(v, 0f, 1f) * 255f) : (byte)0;
            }
        }
        return rgb;
    }
}

/// <summary>Rows = images, columns = the input plus one saliency map per method.</summary>
/// <param name="Maps">[image][method] → H·W channel-summed map (row-major).</param>
/// <param name="Scaling">How each map is normalised onto the colormap (default: per map ±99th percentile of |v|).</param>
/// <param name="CellSize">Cell edge in pixels; default ≈200 px, with integer upscaling for small images.</param>
public sealed record SaliencyGridInput(
    IReadOnlyList<GridImage> Images,
    IReadOnlyList<string> Methods,
    float[][][] Maps,
    int Height,
    int Width,
    string? Title = null,
    string? Subtitle = null,
    SaliencyScaling Scaling = SaliencyScaling.SymmetricPercentile99,
    int? CellSize = null);

/// <summary>
/// Grid of saliency maps in RdBu_r (red positive, blue negative, white zero), each map with its own
/// symmetric limits, which are printed under the cell. Cells are rasterised at display size with
/// nearest-neighbour upscaling so that pixels stay crisp in the PNG and in the SVG (which embeds them).
/// </summary>
public static class SaliencyGrid
{
    const float Margin = 20;
    const float Gap = 10;
    const float CaptionHeight = 20;
    const float ColumnTitleSize = 15;

    public static void Save(SaliencyGridInput input, string pngPath, string svgPath)
    {
        Validate(input);
        Layout L = ComputeLayout(input);

        // rasterise once; both outputs draw the same images
        var inputs = input.Images.Select(img => Resample(img.ToRgb(input.Height, input.Width), input.Height, input.Width, L.CellW, L.CellH)).ToList();
        var maps = new List<(SKImage Image, double Neg, double Pos)>[input.Images.Count];
        for (int r = 0; r < input.Images.Count; r++)
        {
            maps[r] = [];
            foreach (float[] map in input.Maps[r])
            {
                (float[] t, double neg, double pos) = DivergingColormap.Normalise(map, input.Scaling);
                maps[r].Add((Resample(Colorize(t), input.Height, input.Width, L.CellW, L.CellH), neg, pos));
            }
        }

        try
        {
            Figure.Save(L.TotalW, L.TotalH, canvas => Draw(canvas, input, L, inputs, maps), pngPath, svgPath);
        }
        finally
        {
            foreach (SKImage img in inputs) img.Dispose();
            foreach (var row in maps) foreach (var m in row) m.Image.Dispose();
        }
    }

    /// <summary>Pixel size of the figure <see cref="Save"/> writes for <paramref name="input"/>.</summary>
    public static (int Width, int Height) Measure(SaliencyGridInput input)
    {
        Validate(input);
        Layout L = ComputeLayout(input);
        return (L.TotalW, L.TotalH);
    }

    sealed record Layout(int CellW, int CellH, float LabelW, float HeaderH, float ColTitleH, float FooterH,
        List<string> NoteLines, int TotalW, int TotalH);

    const float NoteSize = 14, NoteLineH = 19, BarW = 240, BarH = 14;

    static void Validate(SaliencyGridInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Height < 1 || input.Width < 1) throw new ArgumentException("Height and Width must be positive");
        if (input.Images.Count == 0) throw new ArgumentException("no images");
        if (input.Maps.Length != input.Images.Count)
            throw new ArgumentException($"Maps has {input.Maps.Length} rows for {input.Images.Count} images");
        int hw = input.Height * input.Width;
        for (int r = 0; r < input.Maps.Length; r++)
        {
            if (input.Maps[r].Length != input.Methods.Count)
                throw new ArgumentException($"image {r}: {input.Maps[r].Length} maps for {input.Methods.Count} methods");
            for (int m = 0; m < input.Maps[r].Length; m++)
                if (input.Maps[r][m].Length != hw)
                    throw new ArgumentException($"image {r}, method '{input.Methods[m]}': {input.Maps[r][m].Length} values, expected {hw}");
        }
    }

    static Layout ComputeLayout(SaliencyGridInput input)
    {
        int maxDim = Math.Max(input.Height, input.Width);
        double scale = input.CellSize is int cs ? (double)cs / maxDim
            : maxDim <= 200 ? Math.Max(1, Math.Round(200.0 / maxDim))
            : maxDim <= 320 ? 1 : 256.0 / maxDim;
        int cellW = Math.Max(1, (int)Math.Round(input.Width * scale));
        int cellH = Math.Max(1, (int)Math.Round(input.Height * scale));

        using SKFont labelFont = Figure.Font(15);
        float labelW = input.Images.Max(img => WrapLines(img.Label, labelFont, 170).Max(l => labelFont.MeasureText(l)));
        labelW = Math.Clamp(labelW + 16, 60, 190);

        int cols = 1 + input.Methods.Count;
        float gridW = cols * cellW + (cols - 1) * Gap;
        float headerH = string.IsNullOrWhiteSpace(input.Title) && string.IsNullOrWhiteSpace(input.Subtitle) ? 8
            : (string.IsNullOrWhiteSpace(input.Title) ? 0 : 38) + (string.IsNullOrWhiteSpace(input.Subtitle) ? 0 : 26) + 12;
        float colTitleH = 2 * (ColumnTitleSize + 4) + 6;
        float rowPitch = cellH + CaptionHeight + Gap;
        int totalW = (int)Math.Ceiling(Margin + labelW + gridW + Margin);
        totalW = Math.Max(totalW, 420);

        using SKFont noteFont = Figure.Font(NoteSize);
        List<string> noteLines = [.. NoteSentences(input.Scaling).SelectMany(n => WrapLines(n, noteFont, totalW - 2 * Margin))];
        // colorbar, its tick labels, then the note
        float footerH = 6 + BarH + 20 + 8 + noteLines.Count * NoteLineH + 8;
        int totalH = (int)Math.Ceiling(headerH + colTitleH + input.Images.Count * rowPitch + footerH);
        return new Layout(cellW, cellH, labelW, headerH, colTitleH, footerH, noteLines, totalW, totalH);
    }

    static void Draw(SKCanvas canvas, SaliencyGridInput input, Layout L, List<SKImage> inputs,
        List<(SKImage Image, double Neg, double Pos)>[] maps)
    {
        if (!string.IsNullOrWhiteSpace(input.Title) || !string.IsNullOrWhiteSpace(input.Subtitle))
            Figure.DrawHeader(canvas, L.TotalW, input.Title ?? "", input.Subtitle, top: 12, titleSize: 22, subtitleSize: 16);

        int cols = 1 + input.Methods.Count;
        float gridW = cols * L.CellW + (cols - 1) * Gap;
        float x0 = Margin + L.LabelW + Math.Max(0, (L.TotalW - 2 * Margin - L.LabelW - gridW) / 2);
        float y0 = L.HeaderH + L.ColTitleH;

        using var text = new SKPaint { IsAntialias = true, Color = Figure.TextColor };
        using var muted = new SKPaint { IsAntialias = true, Color = Figure.MutedTextColor };
        using var frame = new SKPaint { IsAntialias = false, Color = new SKColor(0xbb, 0xbb, 0xbb), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        using SKFont titleFont = Figure.Font(ColumnTitleSize, bold: true);
        using SKFont aliasFont = Figure.Font(ColumnTitleSize - 1);
        using SKFont labelFont = Figure.Font(15);
        using SKFont captionFont = Figure.Font(12);

        // column titles: method name, and the paper's name for pattern methods on a second line
        string[] titles = ["input", .. input.Methods];
        for (int c = 0; c < cols; c++)
        {
            float cx = x0 + c * (L.CellW + Gap) + L.CellW / 2f;
            string name = titles[c];
            string display = c == 0 ? name : MethodStyles.DisplayName(name);
            string? second = display.Length > name.Length ? display[(name.Length + 1)..] : null;
            float yTitle = y0 - 8 - (second is null ? 0 : ColumnTitleSize + 4);
            using SKFont f = ShrinkToFit(name, titleFont, L.CellW + Gap - 4);
            canvas.DrawText(Figure.FitText(name, f, L.CellW + Gap - 2), cx, yTitle, SKTextAlign.Center, f, text);
            if (second is not null)
                canvas.DrawText(Figure.FitText(second, aliasFont, L.CellW), cx, y0 - 8, SKTextAlign.Center, aliasFont, muted);
        }

        var nearest = new SKSamplingOptions(SKFilterMode.Nearest);
        for (int r = 0; r < input.Images.Count; r++)
        {
            float y = y0 + r * (L.CellH + CaptionHeight + Gap);

            // row label, right-aligned next to the input image, vertically centred
            List<string> lines = WrapLines(input.Images[r].Label, labelFont, L.LabelW - 12);
            float lineH = 19;
            float ly = y + L.CellH / 2f - (lines.Count - 1) * lineH / 2f + 5;
            foreach (string line in lines)
            {
                canvas.DrawText(line, x0 - 12, ly, SKTextAlign.Right, labelFont, text);
                ly += lineH;
            }

            for (int c = 0; c < cols; c++)
            {
                float x = x0 + c * (L.CellW + Gap);
                SKImage img = c == 0 ? inputs[r] : maps[r][c - 1].Image;
                canvas.DrawImage(img, SKRect.Create(x, y, L.CellW, L.CellH), nearest);
                canvas.DrawRect(SKRect.Create(x - 0.5f, y - 0.5f, L.CellW + 1, L.CellH + 1), frame);
                if (c == 0) continue;
                (_, double neg, double pos) = maps[r][c - 1];
                canvas.DrawText(LimitCaption(neg, pos), x + L.CellW / 2f, y + L.CellH + 15, SKTextAlign.Center, captionFont, muted);
            }
        }

        DrawColorbar(canvas, L, input.Scaling);
    }

    static string LimitCaption(double neg, double pos)
    {
        if (neg == 0 && pos == 0) return "all zero";
        return -neg == pos ? $"±{Fmt(pos)}" : $"{Fmt(neg)} … +{Fmt(pos)}";
    }

    static string Fmt(double v) => Math.Abs(v) is >= 1e-2 and < 1e3
        ? v.ToString("0.###", CultureInfo.InvariantCulture)
        : v.ToString("0.0e+0", CultureInfo.InvariantCulture);

    static string[] NoteSentences(SaliencyScaling scaling) =>
    [
        "red = positive, blue = negative attribution, white = 0",
        scaling switch
        {
            SaliencyScaling.SymmetricPercentile99 => "each map scaled to ±(99th percentile of its |values|), printed under it; larger values clipped",
            SaliencyScaling.SymmetricMax => "each map scaled to ±(max of its |values|), printed under it",
            _ => "each sign scaled separately to the map's min / max, printed under it",
        },
    ];

    static void DrawColorbar(SKCanvas canvas, Layout L, SaliencyScaling scaling)
    {
        float yBar = L.TotalH - L.FooterH + 6;
        float xBar = (L.TotalW - BarW) / 2;
        using SKFont font = Figure.Font(13);
        using SKFont noteFont = Figure.Font(NoteSize);
        using var text = new SKPaint { IsAntialias = true, Color = Figure.TextColor };
        using var muted = new SKPaint { IsAntialias = true, Color = Figure.MutedTextColor };

        using var bmp = new SKBitmap(new SKImageInfo((int)BarW, 1, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int i = 0; i < (int)BarW; i++)
            bmp.SetPixel(i, 0, DivergingColormap.Map(2.0 * i / (BarW - 1) - 1));
        using SKImage barImg = SKImage.FromBitmap(bmp);
        canvas.DrawImage(barImg, SKRect.Create(xBar, yBar, BarW, BarH), new SKSamplingOptions(SKFilterMode.Linear));
        using var frame = new SKPaint { Color = new SKColor(0x99, 0x99, 0x99), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(SKRect.Create(xBar - 0.5f, yBar - 0.5f, BarW + 1, BarH + 1), frame);

        float yTick = yBar + BarH + 16;
        bool symmetric = scaling != SaliencyScaling.CenteredMinMax;
        canvas.DrawText(symmetric ? "−limit" : "min", xBar, yTick, SKTextAlign.Center, font, muted);
        canvas.DrawText("0", xBar + BarW / 2, yTick, SKTextAlign.Center, font, muted);
        canvas.DrawText(symmetric ? "+limit" : "max", xBar + BarW, yTick, SKTextAlign.Center, font, muted);

        float y = yTick + 8 + NoteSize;
        foreach (string line in L.NoteLines)
        {
            canvas.DrawText(line, L.TotalW / 2f, y, SKTextAlign.Center, noteFont, text);
            y += NoteLineH;
        }
    }

    /// <summary>RGB bytes for normalised values t ∈ [−1, 1].</summary>
    static byte[] Colorize(float[] t)
    {
        var rgb = new byte[t.Length * 3];
        for (int i = 0; i < t.Length; i++)
        {
            SKColor c = DivergingColormap.Map(t[i]);
            rgb[i * 3] = c.Red;
            rgb[i * 3 + 1] = c.Green;
            rgb[i * 3 + 2] = c.Blue;
        }
        return rgb;
    }

    /// <summary>
    /// Resamples to the cell size here rather than at draw time, so the SVG embeds a display-size
    /// raster (viewers would otherwise blur a small embedded image). Nearest for enlarging keeps
    /// pixels crisp; shrinking averages (box filter) to avoid aliasing.
    /// </summary>
    static SKImage Resample(byte[] rgb, int h, int w, int outW, int outH)
    {
        var dst = new SKBitmap(new SKImageInfo(outW, outH, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var px = new byte[outW * outH * 4];
        bool enlarge = outW >= w && outH >= h;
        for (int y = 0; y < outH; y++)
        {
            for (int x = 0; x < outW; x++)
            {
                int o = (y * outW + x) * 4;
                if (enlarge)
                {
                    int sy = Math.Min(h - 1, (int)((y + 0.5) * h / outH));
                    int sx = Math.Min(w - 1, (int)((x + 0.5) * w / outW));
                    int s = (sy * w + sx) * 3;
                    px[o] = rgb[s]; px[o + 1] = rgb[s + 1]; px[o + 2] = rgb[s + 2];
                }
                else
                {
                    int y0 = y * h / outH, y1 = Math.Max(y0 + 1, (y + 1) * h / outH);
                    int x0 = x * w / outW, x1 = Math.Max(x0 + 1, (x + 1) * w / outW);
                    int sr = 0, sg = 0, sb = 0, cnt = 0;
                    for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++)
                        {
                            int s = (yy * w + xx) * 3;
                            sr += rgb[s]; sg += rgb[s + 1]; sb += rgb[s + 2]; cnt++;
                        }
                    px[o] = (byte)(sr / cnt); px[o + 1] = (byte)(sg / cnt); px[o + 2] = (byte)(sb / cnt);
                }
                px[o + 3] = 255;
            }
        }
        System.Runtime.InteropServices.Marshal.Copy(px, 0, dst.GetPixels(), px.Length);
        dst.SetImmutable();
        SKImage image = SKImage.FromBitmap(dst);
        dst.Dispose();
        return image;
    }

    static SKFont ShrinkToFit(string text, SKFont font, float maxWidth)
    {
        float size = font.Size;
        var f = new SKFont(font.Typeface, size) { Edging = SKFontEdging.Antialias, Subpixel = true };
        while (size > 10 && f.MeasureText(text) > maxWidth)
        {
            size -= 0.5f;
            f.Size = size;
        }
        return f;
    }

    /// <summary>Greedy wrap at spaces and underscores (kept at line end) to at most three lines.</summary>
    static List<string> WrapLines(string text, SKFont font, float maxWidth)
    {
        var tokens = new List<string>();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] is ' ' or '_')
            {
                tokens.Add(text[start..(i + 1)]);
                start = i + 1;
            }
        }
        if (start < text.Length) tokens.Add(text[start..]);

        var lines = new List<string>();
        string cur = "";
        foreach (string tok in tokens)
        {
            string next = cur + tok;
            if (cur.Length > 0 && font.MeasureText(next.TrimEnd()) > maxWidth)
            {
                lines.Add(cur.TrimEnd());
                cur = tok;
            }
            else cur = next;
        }
        if (cur.Length > 0) lines.Add(cur.TrimEnd());
        if (lines.Count > 3)
            lines = [lines[0], lines[1], Figure.FitText(string.Join(" ", lines.Skip(2)), font, maxWidth)];
        for (int i = 0; i < lines.Count; i++) lines[i] = Figure.FitText(lines[i], font, maxWidth);
        return lines.Count == 0 ? [""] : lines;
    }
}
