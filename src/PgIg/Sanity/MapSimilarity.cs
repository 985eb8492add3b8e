namespace PgIg.Sanity;

/// <summary>How alike two maps of one image are: Spearman of |map| and of the signed map, and SSIM.</summary>
public sealed record Similarity(double SpearmanAbs, double Spearman, double Ssim);

/// <summary>
/// The measures of Adebayo et al. (2018, §3): Spearman rank correlation with and without absolute values, and SSIM of the
/// maps normalised to [0, 1]. A C×H×W map is first reduced over its channels, as the patch ranking and the figures do:
/// signed = Σ_c m_c, absolute = Σ_c |m_c|. SSIM compares the absolute maps, each min–max normalised to [0, 1] per image,
/// with scikit-image's defaults (7×7 uniform window, K1 = 0.01, K2 = 0.03, data range 1, sample covariance, the mean
/// over the windows that lie inside the image). Spearman uses average ranks for ties; a constant map has no ranking, so
/// its Spearman is NaN (left out of the means, and counted out of their n).
/// </summary>
public static class MapSimilarity
{
    public const int SsimWindow = 7;

    public static Similarity Compare(float[] a, float[] b, int channels, int height, int width)
    {
        if (a.Length != b.Length) throw new ArgumentException($"maps of {a.Length} and {b.Length} values");
        var (sa, aa) = Reduce(a, channels, height * width);
        var (sb, ab) = Reduce(b, channels, height * width);
        return new Similarity(Spearman(aa, ab), Spearman(sa, sb), Ssim(UnitRange(aa), UnitRange(ab), height, width));
    }

    /// <summary>The channel sums: signed Σ_c m_c and absolute Σ_c |m_c|, each H·W.</summary>
    public static (double[] Signed, double[] Abs) Reduce(float[] map, int channels, int hw)
    {
        if (map.Length != channels * hw) throw new ArgumentException($"a map of {map.Length} values is not {channels}×{hw}");
        var signed = new double[hw];
        var abs = new double[hw];
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < hw; i++) { double v = map[c * hw + i]; signed[i] += v; abs[i] += Math.Abs(v); }
        return (signed, abs);
    }

    /// <summary>(v − min) / (max − min); a constant map becomes all zeros.</summary>
    public static double[] UnitRange(double[] v)
    {
        double lo = v.Min(), hi = v.Max();
        return hi > lo ? v.Select(x => (x - lo) / (hi - lo)).ToArray() : new double[v.Length];
    }

    /// <summary>Spearman's ρ: Pearson's correlation of the average ranks (scipy.stats.spearmanr). NaN where either side is constant.</summary>
    public static double Spearman(double[] a, double[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"{a.Length} and {b.Length} values");
        return Pearson(Ranks(a), Ranks(b));
    }

    /// <summary>1-based ranks, ties sharing their mean rank.</summary>
    public static double[] Ranks(double[] v)
    {
        var order = Enumerable.Range(0, v.Length).ToArray();
        Array.Sort(v.ToArray(), order);
        var ranks = new double[v.Length];
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && v[order[j + 1]] == v[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int t = i; t <= j; t++) ranks[order[t]] = rank;
            i = j + 1;
        }
        return ranks;
    }

    static double Pearson(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }

    /// <summary>
    /// Mean SSIM of two H×W images with values in [0, 1] (data range 1) over every 7×7 window inside the image (a smaller odd
    /// window where the image is smaller), as skimage.metrics.structural_similarity(x, y, data_range=1) with its defaults.
    /// </summary>
    public static double Ssim(double[] x, double[] y, int height, int width, int window = SsimWindow)
    {
        if (x.Length != height * width || y.Length != x.Length) throw new ArgumentException($"images of {x.Length} and {y.Length} values, expected {height}×{width}");
        window = Math.Min(window, Math.Min(height, width));
        if (window % 2 == 0) window--;
        const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
        int np = window * window;
        double covNorm = np > 1 ? np / (np - 1.0) : 1;
        var sx = Integral(x, height, width, v => v);
        var sy = Integral(y, height, width, v => v);
        var sxx = Integral(x, height, width, v => v * v);
        var syy = Integral(y, height, width, v => v * v);
        var sxy = Integral(x.Zip(y, (p, q) => p * q).ToArray(), height, width, v => v);
        double total = 0;
        int count = 0;
        for (int r = 0; r + window <= height; r++)
            for (int c = 0; c + window <= width; c++)
            {
                double ux = Box(sx, width, r, c, window) / np, uy = Box(sy, width, r, c, window) / np;
                double uxx = Box(sxx, width, r, c, window) / np, uyy = Box(syy, width, r, c, window) / np, uxy = Box(sxy, width, r, c, window) / np;
                double vx = covNorm * (uxx - ux * ux), vy = covNorm * (uyy - uy * uy), vxy = covNorm * (uxy - ux * uy);
                total += (2 * ux * uy + C1) * (2 * vxy + C2) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
                count++;
            }
        return total / count;
    }

    /// <summary>Summed-area table with a zero row and column in front: (H+1)×(W+1).</summary>
    static double[] Integral(double[] v, int h, int w, Func<double, double> f)
    {
        var s = new double[(h + 1) * (w + 1)];
        for (int r = 0; r < h; r++)
        {
            double row = 0;
            for (int c = 0; c < w; c++)
            {
                row += f(v[r * w + c]);
                s[(r + 1) * (w + 1) + c + 1] = s[r * (w + 1) + c + 1] + row;
            }
        }
        return s;
    }

    static double Box(double[] s, int w, int r, int c, int k)
    {
        int W = w + 1;
        return s[(r + k) * W + c + k] - s[r * W + c + k] - s[(r + k) * W + c] + s[r * W + c];
    }
}
