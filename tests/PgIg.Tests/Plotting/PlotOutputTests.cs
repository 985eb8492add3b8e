using PgIg.Plotting;
using SkiaSharp;
using Xunit;

namespace PgIg.Tests.Plotting;

public class PlotOutputTests
{
    static void AssertSvg(string svgPath, params string[] mustContain)
    {
        string svg = File.ReadAllText(svgPath);
        Assert.Contains("<svg", svg);
        Assert.Contains("</svg>", svg);
        foreach (string s in mustContain) Assert.Contains(s, svg);
    }

    /// <summary>Share of pixels that are clearly not white: guards against blank output (flaw B14).</summary>
    static double InkFraction(string pngPath)
    {
        using SKBitmap bmp = PlotTestData.Decode(pngPath);
        int ink = 0;
        for (int y = 0; y < bmp.Height; y += 2)
            for (int x = 0; x < bmp.Width; x += 2)
            {
                SKColor c = bmp.GetPixel(x, y);
                if (c.Red + c.Green + c.Blue < 600) ink++;
            }
        return ink / (double)((bmp.Height + 1) / 2 * ((bmp.Width + 1) / 2));
    }

    [Fact]
    public void Degradation_plot_writes_png_of_requested_size_and_svg_with_labels()
    {
        string dir = PlotTestData.OutDir("degradation");
        string png = Path.Combine(dir, "degradation.png"), svg = Path.Combine(dir, "degradation.svg");
        var opts = new DegradationPlotOptions { Subtitle = "Fashion-MNIST, 1000 images, faithful protocol" };

        DegradationPlot.Save(PlotTestData.Curves(), opts, png, svg);

        Assert.Equal((1200, 800), PlotTestData.PngSize(png));
        Assert.InRange(InkFraction(png), 0.01, 0.5);
        AssertSvg(svg, "integrate_grad", "pattern_integrate_grad", "random", "var_grad",
            "# patches degraded", "mean p(class predicted on clean image)", "Degradation (MoRF)", "Fashion-MNIST");
    }

    [Fact]
    public void Degradation_plot_draws_the_random_map_and_the_random_order_reference_as_two_series()
    {
        // the random method (a random map) and the random order's reference line in one MoRF figure, as
        // config/fashion-mnist.yaml makes them; they used to share a name and the figure failed
        string dir = PlotTestData.OutDir("degradation-random-order");
        string png = Path.Combine(dir, "d.png"), svg = Path.Combine(dir, "d.svg");
        var curves = PlotTestData.Curves(n: 5, bands: false).Where(c => c.Name is "random" or "integrate_grad").ToList();
        curves.Add(new CurveSeries(MethodStyles.RandomOrder, [1, 0.9, 0.85, 0.8, 0.78]));

        DegradationPlot.Save(curves, new DegradationPlotOptions(), png, svg);

        AssertSvg(svg, "random", "random_order", "integrate_grad");
        var styles = MethodStyles.Assign(curves.Select(c => c.Name));
        Assert.NotEqual(styles["random"].Color, styles[MethodStyles.RandomOrder].Color);
        Assert.NotEqual(styles["random"].DashPattern, styles[MethodStyles.RandomOrder].DashPattern);
    }

    [Fact]
    public void Degradation_plot_handles_a_short_run_without_bands()
    {
        string dir = PlotTestData.OutDir("degradation-short");
        string png = Path.Combine(dir, "d.png"), svg = Path.Combine(dir, "d.svg");
        var curves = PlotTestData.Curves(n: 5, bands: false).Where(c => c.Name is "random" or "integrate_grad" or "pattern_integrate_grad").ToList();

        DegradationPlot.Save(curves, new DegradationPlotOptions { Width = 900, Height = 600 }, png, svg);

        Assert.Equal((900, 600), PlotTestData.PngSize(png));
        AssertSvg(svg, "pattern_integrate_grad");
    }

    [Fact]
    public void Degradation_plot_rejects_mismatched_band()
    {
        var bad = new CurveSeries("integrate_grad", [0.9, 0.8], [0.8], [1.0, 0.9]);
        Assert.Throws<ArgumentException>(() =>
            DegradationPlot.Save([bad], new DegradationPlotOptions(), Path.Combine(Path.GetTempPath(), "x.png"), Path.Combine(Path.GetTempPath(), "x.svg")));
    }

    [Fact]
    public void Rendering_is_deterministic()
    {
        string dir = PlotTestData.OutDir("determinism");
        string a = Path.Combine(dir, "a.png"), b = Path.Combine(dir, "b.png");
        var curves = PlotTestData.Curves(n: 30);
        DegradationPlot.Save(curves, new DegradationPlotOptions(), a, Path.Combine(dir, "a.svg"));
        DegradationPlot.Save(curves, new DegradationPlotOptions(), b, Path.Combine(dir, "b.svg"));
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "a.svg")), File.ReadAllText(Path.Combine(dir, "b.svg")));
    }

    [Fact]
    public void Summary_plot_writes_png_and_svg_with_method_names()
    {
        string dir = PlotTestData.OutDir("summary");
        string png = Path.Combine(dir, "summary.png"), svg = Path.Combine(dir, "summary.svg");

        SummaryPlot.Save(PlotTestData.Summary(), "Degradation summary (MoRF), Fashion-MNIST", png, svg);

        (int w, int h) = PlotTestData.PngSize(png);
        Assert.Equal(1300, w);
        Assert.InRange(h, 480, 1200);
        Assert.InRange(InkFraction(png), 0.01, 0.6);
        AssertSvg(svg, "pattern_integrate_grad", "guided_backprop", "random", "AUC", "AOPC", "95% CI");
    }

    [Fact]
    public void Summary_axis_is_fitted_to_the_data_and_says_where_it_starts()
    {
        // AUCs 0.30–0.36: on a 0-based axis every bar looks alike
        Assert.InRange(SummaryPlot.AxisStart(0.30, 0.36), 0.2, 0.299);
        Assert.Equal(0, SummaryPlot.AxisStart(0.02, 0.40)); // near 0: bars from 0
        Assert.Equal(0, SummaryPlot.AxisStart(-0.1, 0.40));

        string dir = PlotTestData.OutDir("summary-zoom");
        string png = Path.Combine(dir, "s.png"), svg = Path.Combine(dir, "s.svg");
        SummaryRow Row(string m, double auc) => new(m, auc, auc - 0.01, auc + 0.01, 0.5 - auc, 0.49 - auc, 0.51 - auc);
        SummaryPlot.Save([Row("integrate_grad", 0.31), Row("pattern_integrate_grad", 0.30), Row("vanilla_grad", 0.35)], "t", png, svg);
        string text = File.ReadAllText(svg);
        Assert.Contains("area under the degradation curve (axis starts at 0.", text);
        Assert.Contains(", not 0)", text);
    }

    [Fact]
    public void Saliency_grid_fmnist_has_measured_size_and_titles()
    {
        string dir = PlotTestData.OutDir("saliency-fmnist");
        string png = Path.Combine(dir, "grid.png"), svg = Path.Combine(dir, "grid.svg");
        SaliencyGridInput input = PlotTestData.FmnistGrid();

        SaliencyGrid.Save(input, png, svg);

        (int w, int h) size = SaliencyGrid.Measure(input);
        Assert.Equal(size, PlotTestData.PngSize(png));
        // 5 columns and 3 rows of 196-px cells (28 px × 7) must fit
        Assert.True(size.w >= 5 * 196 && size.h >= 3 * 196, $"size {size}");
        AssertSvg(svg, "input", "integrate_grad", "pattern_integrate_grad", "PGIG", "Ankle boot", "red = positive", "<image");
    }

    [Fact]
    public void Saliency_grid_imagenet_bgr_shows_true_colors()
    {
        const int h = 45, w = 45;
        float[] meanBgr = [103.939f, 116.779f, 123.68f];
        // left third pure red, middle green, right blue (RGB), stored as BGR minus the mean
        var px = new float[3 * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int band = x * 3 / w; // 0 red, 1 green, 2 blue
                float[] rgb = band switch { 0 => [255f, 0, 0], 1 => [0, 255f, 0], _ => [0, 0, 255f] };
                for (int c = 0; c < 3; c++) px[c * h * w + y * w + x] = rgb[2 - c] - meanBgr[c];
            }
        var image = GridImage.FromCaffeBgr("tusker (101)", px, meanBgr);
        var input = new SaliencyGridInput([image], ["integrate_grad", "pattern_integrate_grad"],
            [[PlotTestData.Map(1, h, w, 1e-3f), PlotTestData.Map(2, h, w, 5f)]], h, w, Title: "ImageNet (BGR, mean-subtracted)");
        string dir = PlotTestData.OutDir("saliency-imagenet");
        string png = Path.Combine(dir, "grid.png"), svg = Path.Combine(dir, "grid.svg");

        SaliencyGrid.Save(input, png, svg);

        Assert.Equal(SaliencyGrid.Measure(input), PlotTestData.PngSize(png));
        byte[] rgbOut = image.ToRgb(h, w);
        Assert.Equal(new byte[] { 255, 0, 0 }, rgbOut[..3]);
        int mid = (h / 2 * w + w / 2) * 3;
        Assert.Equal(new byte[] { 0, 255, 0 }, rgbOut[mid..(mid + 3)]);
        int last = (h * w - 1) * 3;
        Assert.Equal(new byte[] { 0, 0, 255 }, rgbOut[last..(last + 3)]);
        AssertSvg(svg, "tusker", "integrate_grad");
    }

    [Fact]
    public void Normalized_grey_image_is_un_normalised_for_display()
    {
        // raw 0, 0.286 (the mean) and 1 after (raw − 0.286) / 0.353
        float[] px = [(0 - 0.286f) / 0.353f, 0f, (1 - 0.286f) / 0.353f, -50f];
        var img = GridImage.FromNormalized("x", px, 1, 0.286f, 0.353f);
        byte[] rgb = img.ToRgb(2, 2);
        Assert.Equal(new byte[] { 0, 0, 0, 73, 73, 73, 255, 255, 255, 0, 0, 0 }, rgb);
    }

    [Fact]
    public void Saliency_grid_rejects_wrong_map_size()
    {
        SaliencyGridInput good = PlotTestData.FmnistGrid();
        float[][][] maps = good.Maps.Select(r => r.ToArray()).ToArray();
        maps[1][2] = new float[10];
        Assert.Throws<ArgumentException>(() => SaliencyGrid.Measure(good with { Maps = maps }));
    }
}
