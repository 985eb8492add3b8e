using PgIg.Degradation;
using PgIg.Plotting;
using PgIg.Tests.Plotting;
using SkiaSharp;
using Xunit;

namespace PgIg.Tests.Degradation;

/// <summary>The paired comparison's statistics against cases small enough to compute by hand.</summary>
public class PairedStatisticsTests
{
    [Fact]
    public void Identical_methods_give_p_one_and_a_zero_interval()
    {
        var d = new double[40];
        Assert.Equal(1.0, PairedStatistics.SignFlipPValue(d, seed: 1));
        Assert.Equal(1.0, PairedStatistics.SignFlipPValue(d.AsSpan(0, 8), seed: 1)); // exact branch too
        var r = PairedStatistics.Compare([("a", Aucs(0.5, 0.6, 0.7)), ("b", Aucs(0.5, 0.6, 0.7))], "morf", seed: 3).Single();
        Assert.Equal((0.0, 0.0, 0.0, 1.0, "none"), (r.MeanDiff, r.CiLow, r.CiHigh, r.PValue, r.Better));
    }

    [Fact]
    public void A_constant_shift_has_the_smallest_possible_p()
    {
        // exact, n = 10: only the two all-same-sign vectors reach |sum| = 10·0.1, so p = 2/2^10
        Assert.Equal(2.0 / 1024, PairedStatistics.SignFlipPValue(Enumerable.Repeat(0.1, 10).ToArray(), seed: 1), 12);
        // Monte Carlo, n = 50: no random sign vector reaches it, so p = 1/(1+permutations)
        Assert.Equal(1.0 / 10001, PairedStatistics.SignFlipPValue(Enumerable.Repeat(-0.02, 50).ToArray(), seed: 1), 12);
    }

    [Fact]
    public void Exact_p_value_matches_a_hand_count()
    {
        // d = (1, 2, 3): sums over the 8 sign vectors are ±6, ±4, ±2, ±0; |sum| ≥ 6 for 2 of 8
        Assert.Equal(0.25, PairedStatistics.SignFlipPValue([1, 2, 3], seed: 0), 12);
        // d = (1, −1, 2): |sums| are 2,2,4,0 (each twice): ≥ 2 for 6 of 8
        Assert.Equal(0.75, PairedStatistics.SignFlipPValue([1, -1, 2], seed: 0), 12);
    }

    [Fact]
    public void Monte_Carlo_p_value_is_seeded_and_close_to_the_exact_one()
    {
        var rng = new Random(7);
        var d = Enumerable.Range(0, 60).Select(_ => rng.NextDouble() - 0.45).ToArray();
        double p1 = PairedStatistics.SignFlipPValue(d, seed: 11), p2 = PairedStatistics.SignFlipPValue(d, seed: 11);
        Assert.Equal(p1, p2);
        Assert.NotEqual(p1, PairedStatistics.SignFlipPValue(d, seed: 12));
        // the normal approximation of the sign-flip distribution: sd of the sum = sqrt(Σd²)
        double z = Math.Abs(d.Sum()) / Math.Sqrt(d.Sum(x => x * x));
        double normal = Erfc(z / Math.Sqrt(2));
        Assert.InRange(p1, normal - 0.03, normal + 0.03);
    }

    [Fact]
    public void Holm_multiplies_by_the_remaining_count_and_stays_monotone()
    {
        // sorted 0.01, 0.02, 0.04, 0.5 → 0.04, 0.06, 0.08, 0.5 (already monotone)
        Assert.Equal([0.06, 0.04, 0.5, 0.08], PairedStatistics.Holm([0.02, 0.01, 0.5, 0.04]), new Tol());
        // 0.03·3 = 0.09 exceeds the next 0.04·2 = 0.08, so the later one is raised to 0.09 (step-down monotonicity)
        Assert.Equal([0.09, 0.09, 0.9], PairedStatistics.Holm([0.03, 0.04, 0.9]), new Tol());
        Assert.Equal([1.0, 1.0], PairedStatistics.Holm([0.5, 0.6]), new Tol()); // capped at 1
        // NaN neither counts nor is adjusted
        Assert.Equal([0.02, double.NaN], PairedStatistics.Holm([0.02, double.NaN]), new Tol());
    }

    [Fact]
    public void Better_follows_the_order_direction_and_the_corrected_p()
    {
        var low = Aucs(Enumerable.Range(0, 30).Select(i => 0.3 + 0.01 * (i % 7)).ToArray());
        var high = Aucs(Enumerable.Range(0, 30).Select(i => 0.5 + 0.01 * (i % 5)).ToArray());
        var morf = PairedStatistics.Compare([("low", low), ("high", high)], "morf", seed: 1).Single();
        Assert.True(morf.MeanDiff < 0 && morf.CiHigh < 0 && morf.PHolm < 0.001);
        Assert.Equal("low", morf.Better);   // MoRF: a lower AUC is better
        Assert.Equal("high", PairedStatistics.Compare([("low", low), ("high", high)], "lerf", seed: 1).Single().Better);
        Assert.Equal("high", PairedStatistics.Compare([("low", low), ("high", high)], "insertion", seed: 1).Single().Better);
    }

    [Fact]
    public void Pairs_are_matched_by_image_and_corrected_together()
    {
        var a = Aucs(0.1, 0.2, 0.3, 0.4);
        var b = new Dictionary<long, double> { [3] = 0.0, [1] = 0.1, [2] = 0.2, [99] = 5 }; // image 0 missing, 99 extra
        var c = Aucs(0.1, 0.2, 0.3, 0.4);
        var rows = PairedStatistics.Compare([("a", a), ("b", b), ("c", c)], "morf", seed: 5);
        Assert.Equal(["a/b", "a/c", "b/c"], rows.Select(r => $"{r.MethodA}/{r.MethodB}"));
        var ab = rows[0];
        Assert.Equal(3, ab.Images);
        Assert.Equal((0.2 - 0.1 + 0.3 - 0.2 + 0.4 - 0.0) / 3, ab.MeanDiff, 12);
        Assert.Equal(PairedStatistics.Holm(rows.Select(r => r.PValue).ToList()), rows.Select(r => r.PHolm), new Tol());
    }

    [Fact]
    public void Matrix_figure_has_labels_values_marks_and_ink()
    {
        string dir = PlotTestData.OutDir("pairwise");
        string png = Path.Combine(dir, "pairwise.png"), svg = Path.Combine(dir, "pairwise.svg");
        PairwiseMatrix.Save(["integrate_grad", "pattern_integrate_grad", "random_order"],
            [new PairwiseCell("integrate_grad", "pattern_integrate_grad", 0.012, 0.004), new PairwiseCell("pattern_integrate_grad", "integrate_grad", -0.012, 0.004),
             new PairwiseCell("integrate_grad", "random_order", 0.2, 0.2), new PairwiseCell("random_order", "integrate_grad", -0.2, 0.2)],
            "Paired comparison (MoRF)", "test subtitle", "row's AUC advantage", png, svg);
        string text = File.ReadAllText(svg);
        foreach (var s in new[] { "Paired comparison (MoRF)", "method A (row)", "method B (column)", "AUC advantage", "+0.012", "−0.012", "**", "PGIG", "+0.200" })
            Assert.Contains(s, text);
        using var bmp = PlotTestData.Decode(png);
        int coloured = 0;
        for (int y = 0; y < bmp.Height; y += 3)
            for (int x = 0; x < bmp.Width; x += 3)
            {
                SKColor c = bmp.GetPixel(x, y);
                if (Math.Abs(c.Red - c.Blue) > 60) coloured++;
            }
        Assert.True(coloured > 500, $"only {coloured} coloured samples: the cells were not filled");
    }

    static Dictionary<long, double> Aucs(params double[] v) => v.Select((x, i) => (x, i)).ToDictionary(t => (long)t.i, t => t.x);

    static double Erfc(double x)
    {
        // Abramowitz–Stegun 7.1.26, |error| < 1.5e-7: enough for a tolerance of 0.03
        double t = 1 / (1 + 0.3275911 * x);
        double y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        return y * Math.Exp(-x * x);
    }

    sealed class Tol : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => double.IsNaN(a) ? double.IsNaN(b) : Math.Abs(a - b) < 1e-12;
        public int GetHashCode(double x) => 0;
    }
}
