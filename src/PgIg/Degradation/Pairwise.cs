using PgIg.Data;

namespace PgIg.Degradation;

/// <summary>
/// One pair of methods on one order: per-image AUC differences a − b, their mean with a paired bootstrap 95%
/// interval, a two-sided sign-flip permutation p-value and its Holm correction over all pairs of the order.
/// <paramref name="Better"/> names the method with the better mean AUC (lower for MoRF, higher for LeRF and
/// insertion) when p_holm &lt; 0.05, else "none".
/// </summary>
public sealed record PairwiseResult(string MethodA, string MethodB, string Order, int Images, double MeanDiff,
    double CiLow, double CiHigh, double PValue, double PHolm, string Better);

public static class PairedStatistics
{
    public const double Alpha = 0.05;

    /// <summary>Sample sizes up to this enumerate all 2^n sign vectors (65536 at most); above it, Monte Carlo.</summary>
    public const int ExactMaxImages = 16;

    /// <summary>Whether a larger AUC means a better explanation: the curve should stay high when the least
    /// relevant patches go (LeRF) or rise fast when the most relevant come back (insertion).</summary>
    public static bool HigherIsBetter(string order) => order is "lerf" or "insertion";

    /// <summary>
    /// Two-sided sign-flip permutation p-value of the mean of paired differences: under H0 (the two methods are
    /// exchangeable on each image) every difference's sign is equally likely. Exact for n ≤ <see cref="ExactMaxImages"/>,
    /// else (1 + #{|mean*| ≥ |mean|}) / (1 + permutations), which never gives 0.
    /// </summary>
    public static double SignFlipPValue(ReadOnlySpan<double> diffs, long seed, int permutations = 10000)
    {
        int n = diffs.Length;
        if (n == 0) return double.NaN;
        double observed = Math.Abs(Sum(diffs));
        // sums that equal the observed one in exact arithmetic must count despite rounding in another order
        double tol = 1e-9 * Math.Max(1, SumAbs(diffs));
        if (n <= ExactMaxImages)
        {
            long total = 1L << n, hits = 0;
            for (long mask = 0; mask < total; mask++)
            {
                double s = 0;
                for (int i = 0; i < n; i++) s += (mask >> i & 1) == 0 ? diffs[i] : -diffs[i];
                if (Math.Abs(s) >= observed - tol) hits++;
            }
            return (double)hits / total;
        }
        var rng = new SplitMix64(SplitMix64.Mix((ulong)seed ^ 0x51F7_F11F_0000_0001UL));
        long count = 0;
        for (int r = 0; r < permutations; r++)
        {
            double s = 0;
            ulong bits = 0;
            for (int i = 0; i < n; i++)
            {
                if ((i & 63) == 0) bits = rng.NextUInt64();
                s += (bits & 1) == 0 ? diffs[i] : -diffs[i];
                bits >>= 1;
            }
            if (Math.Abs(s) >= observed - tol) count++;
        }
        return (1.0 + count) / (1.0 + permutations);
    }

    /// <summary>Holm's step-down adjustment (family-wise error): the k-th smallest p (k from 0) times (m − k),
    /// made monotone and capped at 1; NaN stays NaN and does not count towards m.</summary>
    public static double[] Holm(IReadOnlyList<double> p)
    {
        var idx = Enumerable.Range(0, p.Count).Where(i => !double.IsNaN(p[i])).OrderBy(i => p[i]).ThenBy(i => i).ToArray();
        var adjusted = Enumerable.Repeat(double.NaN, p.Count).ToArray();
        double running = 0;
        for (int k = 0; k < idx.Length; k++)
        {
            running = Math.Max(running, Math.Min(1, (idx.Length - k) * p[idx[k]]));
            adjusted[idx[k]] = running;
        }
        return adjusted;
    }

    /// <summary>
    /// Every pair (a, b) of methods, a before b in the given order, on the images both have curves for.
    /// <paramref name="aucByImage"/>: method → image id → AUC. Seeds derive from <paramref name="seed"/> and the
    /// pair's names, so adding a method does not change the other pairs' intervals.
    /// </summary>
    public static List<PairwiseResult> Compare(IReadOnlyList<(string Method, IReadOnlyDictionary<long, double> Auc)> aucByImage,
        string order, long seed, int resamples = 2000, int permutations = 10000)
    {
        var raw = new List<(string A, string B, int N, Interval Ci, double P)>();
        for (int i = 0; i < aucByImage.Count; i++)
            for (int j = i + 1; j < aucByImage.Count; j++)
            {
                var (a, aa) = aucByImage[i];
                var (b, bb) = aucByImage[j];
                var ids = aa.Keys.Where(bb.ContainsKey).OrderBy(k => k).ToArray();
                var d = ids.Select(k => aa[k] - bb[k]).ToArray();
                long s = (long)SplitMix64.Mix((ulong)seed ^ SplitMix64.SeedOf($"{a}\u0000{b}\u0000{order}"));
                raw.Add((a, b, d.Length, CurveStatistics.Bootstrap(d, s, resamples), SignFlipPValue(d, s + 1, permutations)));
            }
        var holm = Holm(raw.Select(r => r.P).ToList());
        bool higher = HigherIsBetter(order);
        return raw.Select((r, k) =>
        {
            string better = !(holm[k] < Alpha) || r.Ci.Value == 0 ? "none" : (r.Ci.Value > 0) == higher ? r.A : r.B;
            return new PairwiseResult(r.A, r.B, order, r.N, r.Ci.Value, r.Ci.Low, r.Ci.High, r.P, holm[k], better);
        }).ToList();
    }

    /// <summary>Significance marks used in the matrix figure and report: *** p&lt;0.001, ** p&lt;0.01, * p&lt;0.05.</summary>
    public static string Stars(double p) => p < 0.001 ? "***" : p < 0.01 ? "**" : p < Alpha ? "*" : "";

    static double Sum(ReadOnlySpan<double> v) { double s = 0; foreach (var x in v) s += x; return s; }
    static double SumAbs(ReadOnlySpan<double> v) { double s = 0; foreach (var x in v) s += Math.Abs(x); return s; }
}
