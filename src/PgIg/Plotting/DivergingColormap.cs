using SkiaSharp;

namespace PgIg.Plotting;

/// <summary>How a saliency map's values are mapped onto the colormap's [−1, 1] input.</summary>
public enum SaliencyScaling
{
    /// <summary>
    /// Default. Symmetric ±L with L = 99th percentile of |v| over the map; values beyond are clipped.
    /// A single extreme pixel (common for gradient maps) would otherwise wash out the rest.
    /// </summary>
    SymmetricPercentile99,

    /// <summary>Symmetric ±max|v|: nothing is clipped.</summary>
    SymmetricMax,

    /// <summary>
    /// The original viz.plot_cam: positives scaled by max, negatives by |min|, zero at the centre
    /// (its BoundaryNorm with 100 bins per side). Makes the weaker sign look as strong as the other.
    /// </summary>
    CenteredMinMax,
}

/// <summary>
/// matplotlib's RdBu_r (ColorBrewer RdBu reversed): −1 dark blue, 0 near-white (#f7f7f7), +1 dark red.
/// </summary>
public static class DivergingColormap
{
    // ColorBrewer RdBu 11-class, reversed: index 0 = −1, index 10 = +1 (matplotlib interpolates the same anchors)
    static readonly SKColor[] Anchors =
    [
        SKColor.Parse("#053061"), SKColor.Parse("#2166ac"), SKColor.Parse("#4393c3"), SKColor.Parse("#92c5de"),
        SKColor.Parse("#d1e5f0"), SKColor.Parse("#f7f7f7"), SKColor.Parse("#fddbc7"), SKColor.Parse("#f4a582"),
        SKColor.Parse("#d6604d"), SKColor.Parse("#b2182b"), SKColor.Parse("#67001f"),
    ];

    /// <summary>Color for t in [−1, 1] (clamped; NaN maps to the centre).</summary>
    public static SKColor Map(double t)
    {
        if (double.IsNaN(t)) t = 0;
        t = Math.Clamp(t, -1, 1);
        double pos = (t + 1) / 2 * (Anchors.Length - 1);
        int i = Math.Min((int)Math.Floor(pos), Anchors.Length - 2);
        double f = pos - i;
        SKColor a = Anchors[i], b = Anchors[i + 1];
        return new SKColor(Lerp(a.Red, b.Red, f), Lerp(a.Green, b.Green, f), Lerp(a.Blue, b.Blue, f));
    }

    static byte Lerp(byte a, byte b, double f) => (byte)Math.Round(a + (b - a) * f);

    /// <summary>
    /// Normalises a map to [−1, 1] per <paramref name="scaling"/>. Returns the normalised values and
    /// the limits (negative, positive) that map to the colormap ends.
    /// </summary>
    public static (float[] Normalised, double NegLimit, double PosLimit) Normalise(
        ReadOnlySpan<float> map, SaliencyScaling scaling)
    {
        double neg, pos;
        switch (scaling)
        {
            case SaliencyScaling.SymmetricMax:
                pos = MaxAbs(map);
                neg = -pos;
                break;
            case SaliencyScaling.SymmetricPercentile99:
                pos = AbsPercentile(map, 0.99);
                if (pos <= 0) pos = MaxAbs(map); // mostly-zero maps: fall back so the few non-zeros show
                neg = -pos;
                break;
            case SaliencyScaling.CenteredMinMax:
                pos = 0; neg = 0;
                foreach (float v in map)
                {
                    if (!float.IsFinite(v)) continue;
                    if (v > pos) pos = v;
                    if (v < neg) neg = v;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scaling), scaling, null);
        }

        var result = new float[map.Length];
        for (int i = 0; i < map.Length; i++)
        {
            float v = map[i];
            double t = !float.IsFinite(v) ? 0
                : v >= 0 ? (pos > 0 ? v / pos : 0)
                : (neg < 0 ? -v / neg : 0);
            result[i] = (float)Math.Clamp(t, -1, 1);
        }
        return (result, neg, pos);
    }

    static double MaxAbs(ReadOnlySpan<float> map)
    {
        double m = 0;
        foreach (float v in map)
            if (float.IsFinite(v)) m = Math.Max(m, Math.Abs(v));
        return m;
    }

    /// <summary>Linear-interpolated percentile of |v| (numpy's default method), ignoring non-finite values.</summary>
    public static double AbsPercentile(ReadOnlySpan<float> map, double q)
    {
        var abs = new List<double>(map.Length);
        foreach (float v in map)
            if (float.IsFinite(v)) abs.Add(Math.Abs(v));
        if (abs.Count == 0) return 0;
        abs.Sort();
        double pos = q * (abs.Count - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, abs.Count - 1);
        return abs[lo] + (abs[hi] - abs[lo]) * (pos - lo);
    }
}
