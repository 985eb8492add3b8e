using PgIg.Reporting;
using PgIg.Plotting;
using SkiaSharp;
using Xunit;

namespace PgIg.Tests.Plotting;

public class StyleAndColormapTests
{
    [Fact]
    public void Zero_maps_to_near_white()
    {
        SKColor c = DivergingColormap.Map(0);
        Assert.True(c.Red >= 240 && c.Green >= 240 && c.Blue >= 240, c.ToString());
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(0.2)]
    public void Positive_maps_to_red(double t)
    {
        SKColor c = DivergingColormap.Map(t);
        Assert.True(c.Red > c.Blue + 20 && c.Red > c.Green, $"{t} -> {c}");
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(-0.5)]
    [InlineData(-0.2)]
    public void Negative_maps_to_blue(double t)
    {
        SKColor c = DivergingColormap.Map(t);
        Assert.True(c.Blue > c.Red + 20 && c.Blue > c.Green, $"{t} -> {c}");
    }

    [Fact]
    public void Colormap_ends_match_matplotlib_RdBu_r_and_clamp()
    {
        Assert.Equal(SKColor.Parse("#053061"), DivergingColormap.Map(-1));
        Assert.Equal(SKColor.Parse("#67001f"), DivergingColormap.Map(1));
        Assert.Equal(DivergingColormap.Map(1), DivergingColormap.Map(7));
        Assert.Equal(DivergingColormap.Map(0), DivergingColormap.Map(double.NaN));
    }

    [Fact]
    public void Colour_intensity_grows_with_magnitude()
    {
        // distance from white increases monotonically on each side
        static int Dist(SKColor c) => 3 * 255 - c.Red - c.Green - c.Blue;
        for (int i = 1; i <= 20; i++)
        {
            Assert.True(Dist(DivergingColormap.Map(i / 20.0)) >= Dist(DivergingColormap.Map((i - 1) / 20.0)));
            Assert.True(Dist(DivergingColormap.Map(-i / 20.0)) >= Dist(DivergingColormap.Map(-(i - 1) / 20.0)));
        }
    }

    [Fact]
    public void Percentile_scaling_ignores_a_single_outlier_and_max_scaling_does_not()
    {
        var map = Enumerable.Range(0, 1000).Select(i => (float)((i % 2 == 0 ? 1 : -1) * (i % 100) / 100.0)).ToArray();
        map[500] = 1000f;

        var (p99, neg99, pos99) = DivergingColormap.Normalise(map, SaliencyScaling.SymmetricPercentile99);
        Assert.InRange(pos99, 0.9, 1.0);
        Assert.Equal(-pos99, neg99);
        Assert.Equal(1f, p99[500]); // clipped

        var (pmax, _, posMax) = DivergingColormap.Normalise(map, SaliencyScaling.SymmetricMax);
        Assert.Equal(1000, posMax);
        Assert.True(Math.Abs(pmax[2]) < 0.001);
    }

    [Fact]
    public void Centered_min_max_scales_each_sign_separately_like_the_original()
    {
        float[] map = [-2f, -1f, 0f, 5f, 10f];
        var (t, neg, pos) = DivergingColormap.Normalise(map, SaliencyScaling.CenteredMinMax);
        Assert.Equal(-2, neg);
        Assert.Equal(10, pos);
        Assert.Equal(new[] { -1f, -0.5f, 0f, 0.5f, 1f }, t);
    }

    [Fact]
    public void All_zero_map_stays_white()
    {
        var (t, neg, pos) = DivergingColormap.Normalise(new float[16], SaliencyScaling.SymmetricPercentile99);
        Assert.All(t, v => Assert.Equal(0f, v));
        Assert.Equal(0, neg);
        Assert.Equal(0, pos);
    }

    [Fact]
    public void Method_and_its_pattern_twin_share_color_but_not_line_pattern()
    {
        var styles = MethodStyles.Assign(PlotTestData.Methods);
        MethodStyle ig = styles["integrate_grad"], pgig = styles["pattern_integrate_grad"];
        Assert.Equal(ig.Color, pgig.Color);
        Assert.False(ig.Dashed);
        Assert.True(pgig.Dashed);
        Assert.Equal("integrate_grad", pgig.BaseMethod);
        Assert.Equal(styles["vanilla_grad"].Color, styles["pattern_vanilla_grad"].Color);
        Assert.NotEqual(ig.Color, styles["vanilla_grad"].Color);
        Assert.Equal(SKColor.Parse("#1f77b4"), ig.Color); // tab10 blue
    }

    [Fact]
    public void Random_is_black_solid_baseline()
    {
        MethodStyle r = MethodStyles.Assign(PlotTestData.Methods)["random"];
        Assert.Equal(SKColors.Black, r.Color);
        Assert.False(r.Dashed);
        Assert.True(r.IsBaseline);
    }

    [Fact]
    public void Base_methods_get_distinct_colors_stable_across_subsets()
    {
        var all = MethodStyles.Assign(PlotTestData.Methods);
        var bases = all.Values.Where(s => !s.IsPattern).ToList();
        Assert.Equal(bases.Count, bases.Select(s => s.Color).Distinct().Count());

        // the pairing must not depend on which other methods are plotted (the original's flaw B14)
        var subset = MethodStyles.Assign(["pattern_integrate_grad", "smooth_grad", "integrate_grad"]);
        Assert.Equal(all["pattern_integrate_grad"].Color, subset["pattern_integrate_grad"].Color);
        Assert.Equal(all["smooth_grad"].Color, subset["smooth_grad"].Color);
    }

    [Fact]
    public void Flagged_pattern_methods_pair_with_their_base()
    {
        var pairs = new Dictionary<string, string> { ["pgig"] = "integrate_grad", ["myrule"] = "my_base" };
        var styles = MethodStyles.Assign(["integrate_grad", "pgig", "my_base", "myrule"], pairs);
        Assert.True(styles["pgig"].Dashed);
        Assert.Equal(styles["integrate_grad"].Color, styles["pgig"].Color);
        Assert.Equal(styles["my_base"].Color, styles["myrule"].Color);
        Assert.NotEqual(styles["my_base"].Color, styles["integrate_grad"].Color);
        Assert.Equal(["integrate_grad", "pgig", "my_base", "myrule"], MethodStyles.LegendOrder(styles));
    }

    [Fact]
    public void Legend_order_puts_random_first_and_twins_after_their_base()
    {
        var order = MethodStyles.LegendOrder(MethodStyles.Assign(PlotTestData.Methods)).ToList();
        Assert.Equal("random", order[0]);
        Assert.Equal(order.IndexOf("integrate_grad") + 1, order.IndexOf("pattern_integrate_grad"));
        Assert.Equal(order.IndexOf("vanilla_grad") + 1, order.IndexOf("pattern_vanilla_grad"));
    }

    [Fact]
    public void Every_method_of_a_figure_gets_a_distinct_style_even_two_pattern_variants_of_one_method()
    {
        var cfg = PgIg.Config.ConfigLoader.Parse("""
            track: fashion-mnist
            methods:
              - random
              - integrate_grad
              - pattern_integrate_grad
              - {name: pgig_50, method: integrate_grad, rule: pattern, params: {steps: 50}}
              - {method: integrate_grad, rule: patternnet}
              - {name: ig_50, method: integrate_grad, params: {steps: 50}}
              - vanilla_grad
              - pattern_vanilla_grad
            """, "styles.yaml");
        var pairs = PgIg.Reporting.Figures.PatternPairs(cfg);
        var names = cfg.Methods.Select(m => m.Name).ToList();
        var styles = MethodStyles.Assign(names, pairs);
        var looks = styles.Values.Select(s => (s.Color, Dash: string.Join(",", s.DashPattern), Hatch: string.Join(",", s.HatchAngles))).ToList();
        Assert.Equal(looks.Count, looks.Distinct().Count());

        MethodStyle pgig = styles["pattern_integrate_grad"], pgig50 = styles["pgig_50"];
        Assert.Equal(styles["integrate_grad"].Color, pgig.Color); // the canonical twin keeps its base colour
        Assert.NotEqual(pgig.Color, pgig50.Color);
        Assert.NotEqual(pgig.DashPattern, pgig50.DashPattern);
        Assert.NotEqual(pgig.HatchAngles, pgig50.HatchAngles);
        Assert.True(pgig50.Dashed);

        // the same in every figure, whatever order the figure lists the methods in (the summary sorts by AUC)
        var reversed = MethodStyles.Assign(Enumerable.Reverse(names), pairs);
        Assert.All(names, n => Assert.Equal(styles[n], reversed[n]));
    }
}
