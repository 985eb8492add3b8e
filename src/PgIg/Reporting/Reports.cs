using System.Globalization;
using System.Text;
using PgIg.Config;
using PgIg.Degradation;
using PgIg.Tracks;
using PgIg.Pipeline;
using PgIg.Stages;

namespace PgIg.Reporting;

/// <summary>One replacement's summaries and pairwise comparisons, as the report shows them.</summary>
public sealed record ReplacementResults(string Replacement, IReadOnlyList<CurveSummary> Summaries, IReadOnlyList<PairwiseResult> Pairwise);

/// <summary>The Plots stage's outputs: curves CSV (the original's results.csv layout), summary CSV, and figures, per replacement
/// (mean under the original's names, ROAD with the suffix <c>_road</c>).</summary>
public static class Reports
{
    /// <param name="families">Per replacement (degrade.replacement: mean, road), each method's curves.</param>
    public static async Task WriteAsync(ArtifactWriter w, PipelineConfig c, ITrack track, IReadOnlyDictionary<string, Dictionary<string, List<CurveRow>>> families,
        List<ImageRow> gridImages, List<(string Method, List<MapRow> Maps)> gridMaps, IReadOnlyList<ReportUnit>? units = null, SanityResults? sanity = null)
    {
        var results = new List<ReplacementResults>();
        foreach (var replacement in c.Degrade.Replacements)
        {
            var curves = families[replacement];
            string suffix = DegradeConfig.Suffix(replacement);
            var summaries = Summaries(c, curves);
            foreach (var order in c.Degrade.Orders)
            {
                var name = (order == "morf" ? "degradation" : $"degradation_{order}") + suffix + ".csv";
                var series = summaries.Where(s => s.Order == order).ToList();
                var sb = new StringBuilder("patches," + string.Join(",", series.Select(s => s.Method)) + "\n");
                for (int i = 0; i < c.Degrade.NPatches; i++)
                    sb.Append(i.ToString(CultureInfo.InvariantCulture)).Append(',')
                      .AppendJoin(',', series.Select(s => s.MeanCurve[i].ToString("R", CultureInfo.InvariantCulture))).Append('\n');
                await File.WriteAllTextAsync(w.PathOf(name), sb.ToString());
                w.RegisterFile(name, c.Degrade.NPatches);
            }

            var sum = new StringBuilder("method,order,images,auc,auc_low,auc_high,aopc,aopc_low,aopc_high\n");
            foreach (var s in summaries)
                sum.Append(string.Join(",", s.Method, s.Order, s.Images.ToString(CultureInfo.InvariantCulture),
                    F(s.Auc.Value), F(s.Auc.Low), F(s.Auc.High), F(s.Aopc.Value), F(s.Aopc.Low), F(s.Aopc.High))).Append('\n');
            await File.WriteAllTextAsync(w.PathOf($"summary{suffix}.csv"), sum.ToString());
            w.RegisterFile($"summary{suffix}.csv", summaries.Count);

            var pairwise = Pairwise(c, curves);
            var pw = new StringBuilder("method_a,method_b,order,images,mean_diff,ci_low,ci_high,p_value,p_holm,better\n");
            foreach (var r in pairwise)
                pw.Append(string.Join(",", r.MethodA, r.MethodB, r.Order, r.Images.ToString(CultureInfo.InvariantCulture),
                    F(r.MeanDiff), F(r.CiLow), F(r.CiHigh), P(r.PValue), P(r.PHolm), r.Better)).Append('\n');
            await File.WriteAllTextAsync(w.PathOf($"pairwise{suffix}.csv"), pw.ToString());
            w.RegisterFile($"pairwise{suffix}.csv", pairwise.Count);

            Figures.Write(w, c, track, summaries, replacement);
            Figures.WritePairwise(w, c, track, pairwise, replacement);
            results.Add(new ReplacementResults(replacement, summaries, pairwise));
        }
        Figures.WriteSaliency(w, c, track, results[0].Summaries.FirstOrDefault()?.Images ?? 0, gridImages, gridMaps);
        var sanitySummary = sanity is null ? default : await SanityReport.WriteAsync(w, c, track, sanity);
        // last: it inlines the figures written above
        await HtmlReport.WriteAsync(w, c, track, results, units ?? [], sanity is null ? null : sanitySummary);
    }

    /// <summary>AUC and AOPC of every series per order (the random order once, as <see cref="RandomOrderName"/>).</summary>
    static List<CurveSummary> Summaries(PipelineConfig c, Dictionary<string, List<CurveRow>> curves)
    {
        var summaries = new List<CurveSummary>();
        foreach (var order in c.Degrade.Orders)
            foreach (var m in SeriesOf(c, order))
            {
                var rows = curves[m].Where(r => r.Order == order).OrderBy(r => r.ImageId).Select(r => r.Curve).ToList();
                summaries.Add(CurveStatistics.Summarise(order == "random" ? RandomOrderName : m, order, rows, c.Seed));
            }
        return summaries;
    }

    /// <summary>
    /// Every pair of methods per ranked order, on per-image AUC differences (method_a − method_b), Holm-corrected
    /// within each order. The random order joins MoRF and LeRF as one more row: it removes patches like them,
    /// so "does the method beat random?" is a pair like any other.
    /// </summary>
    public static List<PairwiseResult> Pairwise(PipelineConfig c, Dictionary<string, List<CurveRow>> curves)
    {
        var result = new List<PairwiseResult>();
        foreach (var order in c.Degrade.Orders.Where(o => o != "random"))
        {
            var series = c.Methods.Select(m => (m.Name, curves[m.Name].Where(r => r.Order == order))).ToList();
            if (c.Degrade.Orders.Contains("random") && order is "morf" or "lerf" && c.Methods.Count > 0)
                series.Add((RandomOrderName, curves[c.Methods[0].Name].Where(r => r.Order == "random")));
            var auc = series.Select(s => (s.Item1, (IReadOnlyDictionary<long, double>)s.Item2
                .ToDictionary(r => r.ImageId, r => CurveStatistics.Auc(r.Curve)))).ToList();
            result.AddRange(PairedStatistics.Compare(auc, order, c.Seed));
        }
        return result;
    }

    /// <summary>The random order's series: it removes patches in a random order drawn per image, whatever the
    /// method's map, so every method gives the same curve and it is reported once, under this name.</summary>
    public const string RandomOrderName = "random_order";

    /// <summary>Methods whose curves an order reports: all of them, or for the random order just the first
    /// (the others are identical by construction).</summary>
    static IEnumerable<string> SeriesOf(PipelineConfig c, string order) =>
        order == "random" ? c.Methods.Take(1).Select(m => m.Name) : c.Methods.Select(m => m.Name);

    /// <summary>Names the Plots stage writes: degradation[_order][_road].csv/png/svg, summary[_order][_road].csv/png/svg, saliency.png/svg,
    /// pairwise[_road].csv, pairwise_order[_road].png/svg, report.html; with sanity on, sanity.csv, sanity_class.csv, sanity_maps and sanity_&lt;measure&gt; figures.</summary>
    public static bool IsResultFile(string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name, @"^((degradation(_(lerf|random|morf|insertion))?(_road)?|summary(_(lerf|morf|insertion))?(_road)?|saliency)\.(csv|png|svg)|pairwise(_road)?\.csv|pairwise_(morf|lerf|insertion)(_road)?\.(png|svg)|report\.html)$")
        || System.Text.RegularExpressions.Regex.IsMatch(name, @"^(sanity(_class)?\.csv|sanity_(maps|spearman_abs|spearman|ssim)\.(png|svg))$");

    static string F(double v) => v.ToString("0.000000", CultureInfo.InvariantCulture);
    // p-values span many decades; fixed decimals would print small ones as 0
    static string P(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>Copies the Plots artifact's files into the results directory (atomically per file).</summary>
    public static IReadOnlyList<string> Publish(string artifactDir, string resultsDir)
    {
        Directory.CreateDirectory(resultsDir);
        // result files of an earlier config that this one does not make (e.g. degradation_lerf.* after dropping
        // lerf) would pass for current results; only names this stage writes are touched
        var fresh = Directory.GetFiles(artifactDir).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        foreach (var old in Directory.GetFiles(resultsDir).Where(f => IsResultFile(Path.GetFileName(f)) && !fresh.Contains(Path.GetFileName(f))))
            File.Delete(old);
        var written = new List<string>();
        foreach (var f in Directory.GetFiles(artifactDir))
        {
            var name = Path.GetFileName(f);
            if (name == Manifest.FileName) continue;
            var dest = Path.Combine(resultsDir, name);
            var tmp = dest + ".tmp";
            File.Copy(f, tmp, overwrite: true);
            File.Move(tmp, dest, overwrite: true);
            written.Add(dest);
        }
        return written;
    }
}
