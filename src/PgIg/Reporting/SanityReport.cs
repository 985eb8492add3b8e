using System.Globalization;
using System.Text;
using PgIg.Config;
using PgIg.Degradation;
using PgIg.Pipeline;
using PgIg.Plotting;
using PgIg.Stages;
using PgIg.Tracks;
using PgIg.Util;
using TorchSharp;

namespace PgIg.Reporting;

/// <summary>One method's Sanity artifacts: its pattern variants, per-image comparisons and the first image's example maps.</summary>
public sealed record SanityMethod(string Method, IReadOnlyList<string> Variants, IReadOnlyList<SanityRow> Similarity,
    IReadOnlyList<ClassSensitivityRow> Class, IReadOnlyList<SanityExampleRow> Examples);

/// <summary>What the Plots stage read from the Sanity stage: the cascade's levels, every method's results and the example image.</summary>
public sealed record SanityResults(IReadOnlyList<string> Levels, IReadOnlyList<SanityMethod> Methods, ImageRow ExampleImage);

/// <summary>A mean similarity with its 95% bootstrap interval over images; Level −1 is the random-map reference.</summary>
public sealed record SanitySummaryRow(string Method, string Patterns, int Level, string Layer, string Metric, Interval Value, int N);

/// <summary>The class-sensitivity mean of one method and measure.</summary>
public sealed record ClassSummaryRow(string Method, string Patterns, string Metric, Interval Value, int N);

/// <summary>sanity.csv, sanity_class.csv, the map grid in the style of Adebayo et al. and the similarity-vs-level figures.</summary>
public static class SanityReport
{
    public static readonly IReadOnlyList<(string Name, string Label)> Metrics =
        [("spearman_abs", "Spearman rank correlation of |map|"), ("spearman", "Spearman rank correlation of the signed map"), ("ssim", "SSIM of |map| normalised to [0, 1]")];

    static double Measure(string metric, double spearmanAbs, double spearman, double ssim) =>
        metric switch { "spearman_abs" => spearmanAbs, "spearman" => spearman, _ => ssim };

    public static (List<SanitySummaryRow> Cascade, List<ClassSummaryRow> Class) Summarise(SanityResults r, long seed)
    {
        var cascade = new List<SanitySummaryRow>();
        var classes = new List<ClassSummaryRow>();
        foreach (var m in r.Methods)
        {
            var groups = m.Similarity.GroupBy(s => (s.Patterns, s.Level, s.Layer))
                .OrderBy(g => g.Key.Level < 0 ? 1 : 0).ThenBy(g => m.Variants.ToList().IndexOf(g.Key.Patterns)).ThenBy(g => g.Key.Level);
            foreach (var g in groups)
                foreach (var (metric, _) in Metrics)
                {
                    var values = g.OrderBy(s => s.ImageId).Select(s => Measure(metric, s.SpearmanAbs, s.Spearman, s.Ssim)).Where(double.IsFinite).ToArray();
                    cascade.Add(new SanitySummaryRow(m.Method, g.Key.Patterns, g.Key.Level, g.Key.Layer, metric,
                        CurveStatistics.Bootstrap(values, Seeds.Derive(seed, "sanity", m.Method, g.Key.Patterns, g.Key.Level, metric), 1000), values.Length));
                }
            foreach (var (metric, _) in Metrics)
            {
                var values = m.Class.OrderBy(s => s.ImageId).Select(s => Measure(metric, s.SpearmanAbs, s.Spearman, s.Ssim)).Where(double.IsFinite).ToArray();
                classes.Add(new ClassSummaryRow(m.Method, m.Variants[0] == SanityStage.NoPatterns ? SanityStage.NoPatterns : SanityStage.Original, metric,
                    CurveStatistics.Bootstrap(values, Seeds.Derive(seed, "sanity-class", m.Method, metric), 1000), values.Length));
            }
        }
        return (cascade, classes);
    }

    public static async Task<(List<SanitySummaryRow> Cascade, List<ClassSummaryRow> Class)> WriteAsync(ArtifactWriter w, PipelineConfig c, ITrack track, SanityResults r)
    {
        var (cascade, classes) = Summarise(r, c.Seed);
        var sb = new StringBuilder("method,patterns,level,layer,metric,mean,ci_low,ci_high,n\n");
        foreach (var s in cascade)
            sb.Append(string.Join(",", s.Method, s.Patterns, s.Level < 0 ? "" : s.Level.ToString(CultureInfo.InvariantCulture), s.Layer, s.Metric,
                F(s.Value.Value), F(s.Value.Low), F(s.Value.High), s.N.ToString(CultureInfo.InvariantCulture))).Append('\n');
        await File.WriteAllTextAsync(w.PathOf("sanity.csv"), sb.ToString());
        w.RegisterFile("sanity.csv", cascade.Count);

        var cb = new StringBuilder("method,patterns,other_class,metric,mean,ci_low,ci_high,n\n");
        foreach (var s in classes)
            cb.Append(string.Join(",", s.Method, s.Patterns, "second_most_probable", s.Metric, F(s.Value.Value), F(s.Value.Low), F(s.Value.High),
                s.N.ToString(CultureInfo.InvariantCulture))).Append('\n');
        await File.WriteAllTextAsync(w.PathOf("sanity_class.csv"), cb.ToString());
        w.RegisterFile("sanity_class.csv", classes.Count);

        int images = r.Methods.Count == 0 ? 0 : r.Methods[0].Class.Count;
        string subtitle = $"{c.Name}: {track.DatasetLabel}, {images} images, cumulative He re-initialisation (seed {c.Sanity.Seed}); class: the original model's prediction";
        WriteLines(w, c, r, cascade, subtitle);
        WriteMaps(w, c, track, r, subtitle);
        return (cascade, classes);
    }

    /// <summary>A series per method and pattern variant; the recomputed variant shares its method's colour in another shade and dash.</summary>
    public static string SeriesName(string method, string patterns) => patterns == SanityStage.Recomputed ? $"{method} (patterns recomputed)" : method;

    const string ReferenceSeries = "random map (mean over methods)";

    static void WriteLines(ArtifactWriter w, PipelineConfig c, SanityResults r, List<SanitySummaryRow> cascade, string subtitle)
    {
        var pairs = Figures.PatternPairs(c);
        foreach (var m in r.Methods.Where(m => m.Variants.Contains(SanityStage.Recomputed)))
            pairs[SeriesName(m.Method, SanityStage.Recomputed)] = pairs.TryGetValue(m.Method, out var b) ? b : m.Method;
        var ticks = new[] { "original" }.Concat(r.Levels).ToList();
        foreach (var (metric, label) in Metrics)
        {
            var series = new List<CurveSeries>();
            foreach (var m in r.Methods)
                foreach (var v in m.Variants)
                {
                    var rows = cascade.Where(s => s.Method == m.Method && s.Patterns == v && s.Metric == metric && s.Level > 0).OrderBy(s => s.Level).ToList();
                    // the original model's map is the reference itself: similarity 1 by definition
                    series.Add(new CurveSeries(SeriesName(m.Method, v), [1, .. rows.Select(s => s.Value.Value)],
                        [1, .. rows.Select(s => s.Value.Low)], [1, .. rows.Select(s => s.Value.High)]));
                }
            var reference = cascade.Where(s => s.Level == SanityStage.RandomMapLevel && s.Metric == metric).Select(s => s.Value.Value).Where(double.IsFinite).ToList();
            if (reference.Count > 0) series.Add(new CurveSeries(ReferenceSeries, Enumerable.Repeat(reference.Average(), ticks.Count).ToArray()));
            DegradationPlot.Save(series, new DegradationPlotOptions
            {
                Title = $"Cascading randomisation: {label} to the original map", Subtitle = subtitle, PatternPairs = pairs,
                XLabel = "re-initialised from the top layer down to", YLabel = $"mean {label}", XTickLabels = ticks, YFromZero = false,
                BandLabel = "shaded: 95% bootstrap CI",
            }, w.PathOf($"sanity_{metric}.png"), w.PathOf($"sanity_{metric}.svg"));
            w.RegisterFile($"sanity_{metric}.png");
            w.RegisterFile($"sanity_{metric}.svg");
        }
    }

    /// <summary>Rows = methods (and pattern variants), columns = the original map then each cascade level, one example image (Adebayo et al., Fig. 2).</summary>
    static void WriteMaps(ArtifactWriter w, PipelineConfig c, ITrack track, SanityResults r, string subtitle)
    {
        if (r.Methods.Count == 0) return;
        using var scope = torch.NewDisposeScope();
        var input = track.ToInput([r.ExampleImage]);
        int h = (int)input.shape[2], wd = (int)input.shape[3];
        var pixels = input[0].contiguous().data<float>().ToArray();
        var images = new List<GridImage>();
        var maps = new List<float[][]>();
        foreach (var m in r.Methods)
            foreach (var v in m.Variants)
            {
                var original = m.Examples.Single(e => e.Level == 0);
                var levels = Enumerable.Range(1, r.Levels.Count).Select(l => m.Examples.Single(e => e.Level == l && e.Patterns == v));
                maps.Add([.. new[] { original }.Concat(levels).Select(e => ChannelSum(e.MapValues(), h * wd))]);
                images.Add(track.DisplayImage(SeriesName(m.Method, v), pixels));
            }
        var target = r.Methods[0].Examples.Single(e => e.Level == 0).TargetClass;
        SaliencyGrid.Save(new SaliencyGridInput(images, ["original", .. r.Levels], [.. maps], h, wd,
            Title: $"Cascading randomisation, image #{r.ExampleImage.ImageId} (predicted: {track.ClassName(target)}); column: re-initialised from the top down to that layer",
            Subtitle: subtitle), w.PathOf("sanity_maps.png"), w.PathOf("sanity_maps.svg"));
        w.RegisterFile("sanity_maps.png");
        w.RegisterFile("sanity_maps.svg");
    }

    static float[] ChannelSum(float[] map, int hw)
    {
        var r = new float[hw];
        for (int ch = 0; ch < map.Length / hw; ch++)
            for (int i = 0; i < hw; i++) r[i] += map[ch * hw + i];
        return r;
    }

    static string F(double v) => v.ToString("0.000000", CultureInfo.InvariantCulture);
}
