using PgIg.Sanity;
using Xunit;

namespace PgIg.Tests.Sanity;

/// <summary>The Sanity stage's measures against values worked out by hand (scipy.stats.spearmanr and skimage's SSIM definitions).</summary>
public sealed class MapSimilarityTests
{
    [Fact]
    public void Spearman_uses_average_ranks_for_ties()
    {
        // ranks of b: 5→1, 6→2, 7→3.5, 8→5, 7→3.5; dx = (−2,−1,0,1,2), dy = (−2,−1,.5,2,.5): Σdxdy = 8, Σdx² = 10, Σdy² = 9.5
        Assert.Equal(new[] { 1, 2, 3.5, 5, 3.5 }, MapSimilarity.Ranks([5, 6, 7, 8, 7]));
        Assert.Equal(8 / Math.Sqrt(95), MapSimilarity.Spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 12);
        Assert.Equal(-1, MapSimilarity.Spearman([1, 2, 3], [30, 20, 10]), 12);
        Assert.Equal(1, MapSimilarity.Spearman([1, 2, 3], [1, 4, 9]), 12);          // monotone, not linear
        Assert.True(double.IsNaN(MapSimilarity.Spearman([1, 1, 1], [1, 2, 3])));     // a constant map has no ranking
    }

    [Fact]
    public void Ssim_of_one_window_matches_the_formula_worked_by_hand()
    {
        // x = 0, 1/48, …, 1 on a 7×7 image (one window): μx = 0.5, sample variance 49·50/12 / 48²
        var x = Enumerable.Range(0, 49).Select(k => k / 48.0).ToArray();
        double vx = 49 * 50 / 12.0 / (48 * 48);
        const double C2 = 9e-4;   // (0.03 · data range 1)²; C1 = 1e-4 cancels in both cases below
        // against a constant 0.5: σy = σxy = 0, so SSIM = (2·.25 + C1)·C2 / ((.25 + .25 + C1)(σx² + C2)) = C2 / (σx² + C2)
        Assert.Equal(C2 / (vx + C2), MapSimilarity.Ssim(x, Enumerable.Repeat(0.5, 49).ToArray(), 7, 7), 12);
        // against 1 − x: same means and variances, covariance −σx²
        Assert.Equal((C2 - 2 * vx) / (C2 + 2 * vx), MapSimilarity.Ssim(x, x.Select(v => 1 - v).ToArray(), 7, 7), 12);
        Assert.Equal(1, MapSimilarity.Ssim(x, x, 7, 7), 12);
        // the mean over windows: two 7×7 windows in a 7×8 image, each its own value
        var wide = new double[56];
        var other = new double[56];
        for (int r = 0; r < 7; r++)
            for (int c = 0; c < 8; c++) { wide[r * 8 + c] = (r * 7 + Math.Min(c, 6)) / 48.0; other[r * 8 + c] = c == 0 ? 0.5 : wide[r * 8 + c]; }
        double left = MapSimilarity.Ssim(Window(wide, 0), Window(other, 0), 7, 7), right = MapSimilarity.Ssim(Window(wide, 1), Window(other, 1), 7, 7);
        Assert.Equal((left + right) / 2, MapSimilarity.Ssim(wide, other, 7, 8), 12);
        Assert.Equal(1, right, 12);
        Assert.True(left < 1);
    }

    static double[] Window(double[] image, int col) =>
        Enumerable.Range(0, 7).SelectMany(r => Enumerable.Range(col, 7).Select(c => image[r * 8 + c])).ToArray();

    [Fact]
    public void Compare_sums_channels_signed_and_absolute_and_normalises_for_ssim()
    {
        // two channels of a 1×3 map: signed sums (0, 2, −1), absolute sums (2, 2, 1)
        float[] a = [1, 1, 0, -1, 1, -1];
        var (signed, abs) = MapSimilarity.Reduce(a, 2, 3);
        Assert.Equal(new double[] { 0, 2, -1 }, signed);
        Assert.Equal(new double[] { 2, 2, 1 }, abs);
        Assert.Equal(new[] { 0.25, 1, 0 }, MapSimilarity.UnitRange([1, 4, 0]));
        Assert.Equal(new double[] { 0, 0 }, MapSimilarity.UnitRange([3, 3]));
        // a scaled copy: every measure is 1 (Spearman is rank-based, SSIM sees both maps normalised)
        var s = MapSimilarity.Compare([1, 5, 2, 8, 3, 9, 4, 7, 6], [2, 10, 4, 16, 6, 18, 8, 14, 12], 1, 3, 3);
        Assert.Equal(new Similarity(1, 1, 1), s with { SpearmanAbs = Math.Round(s.SpearmanAbs, 12), Spearman = Math.Round(s.Spearman, 12), Ssim = Math.Round(s.Ssim, 12) });
        // a sign flip: the signed ranking reverses, the absolute one stays
        var flipped = MapSimilarity.Compare([1, 5, 2, 8, 3, 9, 4, 7, 6], [-1, -5, -2, -8, -3, -9, -4, -7, -6], 1, 3, 3);
        Assert.Equal(1, flipped.SpearmanAbs, 12);
        Assert.Equal(-1, flipped.Spearman, 12);
        Assert.Equal(1, flipped.Ssim, 12);
    }
}
