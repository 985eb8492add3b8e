using PgIg.Plotting;
using SkiaSharp;
using Xunit;

namespace PgIg.Tests.Plotting;

/// <summary>Deterministic, realistic-looking inputs for the plotting tests.</summary>
internal static class PlotTestData
{
    public static readonly string[] Methods =
    [
        "exp_grad", "grad_x_input", "guided_backprop", "integrate_grad", "pattern_integrate_grad",
        "pattern_vanilla_grad", "random", "sg_ig", "smooth_grad2", "smooth_grad", "vanilla_grad", "var_grad",
    ];

    /// <summary>Output folder: $PGIG_PLOT_DIR when set (to look at the figures), else a fresh temp folder.</summary>
    public static string OutDir(string name)
    {
        string? keep = Environment.GetEnvironmentVariable("PGIG_PLOT_DIR");
        string dir = keep is { Length: > 0 }
            ? Path.Combine(keep, name)
            : Path.Combine(Path.GetTempPath(), "pgig-plot-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Exponential-ish MoRF decay; faster for "better" methods; random nearly flat.</summary>
    public static List<CurveSeries> Curves(int n = 100, bool bands = true)
    {
        var rng = new Random(7);
        var list = new List<CurveSeries>();
        for (int m = 0; m < Methods.Length; m++)
        {
            string name = Methods[m];
            double rate = name switch
            {
                "random" => 0.004,
                "pattern_integrate_grad" => 0.06,
                "pattern_vanilla_grad" => 0.05,
                "integrate_grad" => 0.04,
                _ => 0.012 + 0.003 * m,
            };
            double floor = name == "random" ? 0.55 : 0.12;
            var mean = new double[n];
            for (int k = 0; k < n; k++)
                mean[k] = floor + (0.86 - floor) * Math.Exp(-rate * k) + 0.004 * (rng.NextDouble() - 0.5);
            double[]? lo = null, hi = null;
            if (bands && name is "random" or "integrate_grad" or "pattern_integrate_grad")
            {
                lo = mean.Select(v => v - 0.025).ToArray();
                hi = mean.Select(v => v + 0.025).ToArray();
            }
            list.Add(new CurveSeries(name, mean, lo, hi));
        }
        return list;
    }

    public static List<SummaryRow> Summary()
    {
        var rows = new List<SummaryRow>();
        foreach (CurveSeries c in Curves(bands: false))
        {
            double auc = c.Mean.Average();
            double aopc = c.Mean[0] - auc;
            rows.Add(new SummaryRow(c.Name, auc, auc - 0.012, auc + 0.015, aopc, aopc - 0.01, aopc + 0.008));
        }
        return rows;
    }

    /// <summary>Fashion-MNIST-like 1-channel image: a bright blob normalised with mean 0.286, std 0.353.</summary>
    public static GridImage FmnistImage(string label, int seed, int h = 28, int w = 28)
    {
        var rng = new Random(seed);
        var px = new float[h * w];
        double cy = h / 2.0 + rng.Next(-3, 4), cx = w / 2.0 + rng.Next(-3, 4);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double raw = Math.Clamp(1.1 - Math.Sqrt((y - cy) * (y - cy) / 60.0 + (x - cx) * (x - cx) / 25.0), 0, 1);
                px[y * w + x] = (float)((raw - 0.286) / 0.353);
            }
        return GridImage.FromNormalized(label, px, 1, 0.286f, 0.353f);
    }

    /// <summary>Signed map: positive blob, negative ring, noise, and one extreme outlier pixel.</summary>
    public static float[] Map(int seed, int h, int w, float scale)
    {
        var rng = new Random(seed);
        var m = new float[h * w];
        double cy = h * (0.3 + 0.4 * rng.NextDouble()), cx = w * (0.3 + 0.4 * rng.NextDouble());
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double d = Math.Sqrt((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (0.25 * h);
                double v = Math.Exp(-d * d) - 0.5 * Math.Exp(-(d - 1.6) * (d - 1.6) * 4) + 0.08 * (rng.NextDouble() - 0.5);
                m[y * w + x] = (float)(v * scale);
            }
        m[rng.Next(m.Length)] = 40 * scale;
        return m;
    }

    public static SaliencyGridInput FmnistGrid()
    {
        string[] methods = ["integrate_grad", "pattern_integrate_grad", "smooth_grad", "random"];
        GridImage[] images = [FmnistImage("Ankle boot (p = 0.97)", 1), FmnistImage("T-shirt/top", 2), FmnistImage("Bag", 3)];
        float[][][] maps = images.Select((_, r) => methods.Select((_, m) => Map(10 * r + m, 28, 28, (float)Math.Pow(10, -m))).ToArray()).ToArray();
        return new SaliencyGridInput(images, methods, maps, 28, 28, Title: "Saliency maps (Fashion-MNIST)", Subtitle: "channel-summed attributions");
    }

    public static (int Width, int Height) PngSize(string path)
    {
        using var codec = SKCodec.Create(path);
        Assert.NotNull(codec);
        return (codec.Info.Width, codec.Info.Height);
    }

    public static SKBitmap Decode(string path) => SKBitmap.Decode(path);
}
