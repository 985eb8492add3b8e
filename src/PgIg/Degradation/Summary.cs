using PgIg.Data;

namespace PgIg.Degradation;

public sealed record Interval(double Value, double Low, double High);

/// <summary>Per-method summary of degradation curves, with bootstrap 95% intervals over images.</summary>
public sealed record CurveSummary(string Method, string Order, int Images, Interval Auc, Interval Aopc, double[] MeanCurve);

public static class CurveStatistics
{
    /// <summary>Area under the curve by the trapezoid rule, normalised by the number of steps (so it lies in [0,1]).</summary>
    public static double Auc(ReadOnlySpan<float> curve)
    {
        if (curve.Length < 2) return curve.Length == 1 ? curve[0] : double.NaN;
        double s = 0;
        for (int i = 0; i + 1 < curve.Length; i++) s += (curve[i] + curve[i + 1]) / 2.0;
        return s / (curve.Length - 1);
    }

    /// <summary>AOPC (Samek et al.): mean over steps of the drop from the clean-image value.</summary>
    public static double Aopc(ReadOnlySpan<float> curve)
    {
        double s = 0;
        for (int i = 0; i < curve.Length; i++) s += curve[0] - curve[i];
        return s / curve.Length;
    }

    public static CurveSummary Summarise(string method, string order, IReadOnlyList<float[]> curves, long seed, int resamples = 1000)
    {
        int n = curves.Count;
        var auc = curves.Select(c => Auc(c)).ToArray();
        var aopc = curves.Select(c => Aopc(c)).ToArray();
        int len = curves.Count == 0 ? 0 : curves[0].Length;
        var mean = new double[len];
        foreach (var c in curves) for (int i = 0; i < len; i++) mean[i] += c[i];
        for (int i = 0; i < len; i++) mean[i] /= Math.Max(1, n);
        return new CurveSummary(method, order, n, Bootstrap(auc, seed, resamples), Bootstrap(aopc, seed + 1, resamples), mean);
    }

    /// <summary>Percentile bootstrap of the mean, with a fixed-seed generator for reproducibility.</summary>
    public static Interval Bootstrap(double[] values, long seed, int resamples)
    {
        int n = values.Length;
        if (n == 0) return new Interval(double.NaN, double.NaN, double.NaN);
        double mean = values.Average();
        var means = new double[resamples];
        var rng = new SplitMix64((ulong)seed);
        for (int r = 0; r < resamples; r++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) s += values[(int)rng.NextBelow((ulong)n)];
            means[r] = s / n;
        }
        Array.Sort(means);
        return new Interval(mean, Percentile(means, 0.025), Percentile(means, 0.975));
    }

    static double Percentile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
