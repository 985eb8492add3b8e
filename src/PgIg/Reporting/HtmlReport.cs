using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using PgIg.Config;
using PgIg.Degradation;
using PgIg.Tracks;
using static System.Net.WebUtility;
using PgIg.Pipeline;

namespace PgIg.Reporting;

/// <summary>One upstream unit as the report lists it: its key and, from its manifest, when and how long it computed.</summary>
public sealed record ReportUnit(string Stage, string Slot, string Key, double? Seconds, DateTime? CreatedUtc);

/// <summary>
/// results/report.html: one self-contained page (no external files, no scripts) to attach to a paper's supplement:
/// figures as base64 PNG, the summary and pairwise tables, the effective config and its file, every unit's key and
/// timing, and the software versions.
/// </summary>
public static class HtmlReport
{
    public const string FileName = "report.html";

    public static async Task WriteAsync(ArtifactWriter w, PipelineConfig c, ITrack track, IReadOnlyList<ReplacementResults> results, IReadOnlyList<ReportUnit> units,
        (List<SanitySummaryRow> Cascade, List<ClassSummaryRow> Class)? sanity = null)
    {
        var h = new StringBuilder();
        string title = $"PgIg report: {c.Name}";
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(HtmlEncode(title)).Append("</title>\n<style>")
         .Append("body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:1250px;color:#222;background:#fff}")
         .Append("h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}")
         .Append("table{border-collapse:collapse;font-size:.9em;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}")
         .Append("th{background:#f0f0f0}td.l,th.l{text-align:left}tr.sig td{background:#fff4e0}")
         .Append("img{max-width:100%;border:1px solid #ddd;margin:.5em 0}pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.85em}")
         .Append("code{font-size:.85em}</style></head><body>\n");
        int images = results.FirstOrDefault()?.Summaries.FirstOrDefault()?.Images ?? 0;
        h.Append("<h1>").Append(HtmlEncode(title)).Append("</h1>\n<p>")
         .Append(HtmlEncode($"{track.DatasetLabel}, {images} images, {c.Quirks.Describe(c.Protocol)}, {c.Degrade.PatchSize}×{c.Degrade.PatchSize} patches, orders: {string.Join(", ", c.Degrade.Orders)}; seed {c.Seed}."))
         .Append("</p>\n");

        foreach (var (replacement, summaries, pairwise) in results)
        {
            // mean keeps the original headings; ROAD's sections say which replacement they are
            string heading = replacement == DegradeConfig.Road ? $" ({Figures.RoadName})" : "";
            if (replacement == DegradeConfig.Road)
                h.Append("<h2>ROAD replacement</h2>\n<p>").Append(HtmlEncode(RoadNote(c))).Append("</p>\n");
            h.Append("<h2>Summary").Append(HtmlEncode(heading)).Append("</h2>\n<p>AUC and AOPC per method and order, 95% percentile bootstrap intervals over images. MoRF: lower AUC is better; LeRF and insertion: higher.</p>\n");
            Table(h, ["method", "order", "images", "AUC", "AUC 95% CI", "AOPC", "AOPC 95% CI"], summaries.Select(s => new[]
            {
                s.Method, s.Order, s.Images.ToString(CultureInfo.InvariantCulture), N(s.Auc.Value), $"[{N(s.Auc.Low)}, {N(s.Auc.High)}]",
                N(s.Aopc.Value), $"[{N(s.Aopc.Low)}, {N(s.Aopc.High)}]",
            }), leftColumns: 2);

            h.Append("<h2>Paired comparison").Append(HtmlEncode(heading)).Append("</h2>\n<p>Per-image AUC difference method A − method B on the same images: mean, paired bootstrap 95% interval, ")
             .Append("two-sided sign-flip permutation p and its Holm adjustment within the order. Highlighted rows: p<sub>Holm</sub> &lt; 0.05.</p>\n");
            Table(h, ["method A", "method B", "order", "images", "mean diff", "95% CI", "p", "p (Holm)", "better"], pairwise.Select(r => new[]
            {
                r.MethodA, r.MethodB, r.Order, r.Images.ToString(CultureInfo.InvariantCulture), N(r.MeanDiff), $"[{N(r.CiLow)}, {N(r.CiHigh)}]",
                r.PValue.ToString("G3", CultureInfo.InvariantCulture), r.PHolm.ToString("G3", CultureInfo.InvariantCulture), r.Better,
            }), leftColumns: 3, highlight: row => row[8] != "none");
        }

        if (sanity is { } sc) Sanity(h, c, sc.Cascade, sc.Class);

        h.Append("<h2>Figures</h2>\n");
        foreach (var png in FigureOrder(Directory.GetFiles(w.Directory, "*.png").Select(Path.GetFileName).OfType<string>()))
        {
            var bytes = await File.ReadAllBytesAsync(w.PathOf(png));
            h.Append("<figure><img alt=\"").Append(HtmlEncode(png)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(bytes))
             .Append("\"><figcaption><code>").Append(HtmlEncode(png)).Append("</code></figcaption></figure>\n");
        }

        h.Append("<h2>Config</h2>\n<p>Effective settings (after command-line overrides):</p>\n<pre>").Append(HtmlEncode(EffectiveConfig(c))).Append("</pre>\n");
        if (File.Exists(c.SourceFile))
            h.Append("<p>The file <code>").Append(HtmlEncode(Path.GetFileName(c.SourceFile))).Append("</code>:</p>\n<pre>")
             .Append(HtmlEncode(await File.ReadAllTextAsync(c.SourceFile))).Append("</pre>\n");

        h.Append("<h2>Timings</h2>\n<p>Compute time per stage from the units' manifests (a unit computed by an earlier run counts with its own time).</p>\n");
        Table(h, ["stage", "units", "seconds"], units.GroupBy(u => u.Stage).Select(g => new[]
        {
            g.Key, g.Count().ToString(CultureInfo.InvariantCulture), N(g.Sum(u => u.Seconds ?? 0), "0.0"),
        }), leftColumns: 1);

        h.Append("<h2>Stage keys</h2>\n");
        Table(h, ["stage", "slot", "key (SHA-256)", "computed (UTC)", "seconds"], units.Select(u => new[]
        {
            u.Stage, u.Slot, u.Key, u.CreatedUtc?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "", u.Seconds is { } s ? N(s, "0.00") : "",
        }), leftColumns: 3);

        h.Append("<h2>Software</h2>\n");
        Table(h, ["component", "version"], Versions().Select(v => new[] { v.Name, v.Version }), leftColumns: 2);
        h.Append("</body></html>\n");

        await File.WriteAllTextAsync(w.PathOf(FileName), h.ToString());
        w.RegisterFile(FileName);
    }

    /// <summary>What ROAD replacement does, for the report's section.</summary>
    static string RoadNote(PipelineConfig c) =>
        "Removed patches are filled by ROAD's noisy linear imputation (Rong et al., ICML 2022): each removed pixel is the weighted mean " +
        "of its 8 neighbours (direct 1/6, diagonal 1/12), solved jointly over every removed pixel of the step, plus Gaussian noise of standard " +
        $"deviation {c.Degrade.RoadNoise.ToString("G4", CultureInfo.InvariantCulture)} of a [0, 1] pixel (seed {c.Seed}, one field per image). " +
        "The quirk B2 (positive-only replacement) concerns the mean replacement and does not apply here.";

    /// <summary>Degradation curves, then summaries, then pairwise matrices, then the saliency grid, then the sanity figures; each group by name.</summary>
    static IEnumerable<string> FigureOrder(IEnumerable<string> names) =>
        names.OrderBy(n => n.StartsWith("degradation", StringComparison.Ordinal) ? 0 : n.StartsWith("summary", StringComparison.Ordinal) ? 1
            : n.StartsWith("pairwise", StringComparison.Ordinal) ? 2 : n.StartsWith("sanity", StringComparison.Ordinal) ? 4 : 3).ThenBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal);

    /// <summary>The Sanity stage's tables: similarity to the original map per cascade level, and the class-sensitivity means.</summary>
    static void Sanity(StringBuilder h, PipelineConfig c, List<SanitySummaryRow> cascade, List<ClassSummaryRow> classes)
    {
        int n = classes.FirstOrDefault()?.N ?? 0;
        h.Append("<h2>Sanity checks</h2>\n<p>")
         .Append(HtmlEncode($"Cascading model-parameter randomisation (Adebayo et al., NeurIPS 2018) on the first {c.Sanity.Images} evaluation images: the conv/dense " +
            "layers are re-initialised from the top down, cumulatively (He normal weights, zero biases, seed " + c.Sanity.Seed.ToString(CultureInfo.InvariantCulture) + "), " +
            "and each method's map on the randomised model (explaining the class the original model predicts) is compared with its map on the original model: " +
            "Spearman rank correlation of |map| and of the signed map, SSIM of |map| normalised to [0, 1]; mean and 95% bootstrap interval over images. " +
            "A map that passes the check changes: its similarity falls towards the random-map reference (the original map against a uniform random map). " +
            "Pattern methods run with the original model's patterns and, where the pipeline estimates them, with patterns re-estimated for the randomised model."))
         .Append("</p>\n");
        var metrics = SanityReport.Metrics.Select(m => m.Name).ToList();
        Table(h, ["method", "patterns", "level", "randomised down to", .. SanityReport.Metrics.Select(m => m.Name), "n"],
            cascade.GroupBy(r => (r.Method, r.Patterns, r.Level, r.Layer)).Select(g => new[]
            {
                g.Key.Method, g.Key.Patterns, g.Key.Level < 0 ? "reference" : g.Key.Level.ToString(CultureInfo.InvariantCulture), g.Key.Layer,
            }.Concat(metrics.Select(m => g.FirstOrDefault(r => r.Metric == m) is { } r ? Ci(r.Value) : "")).Append(ImageCount(g.Select(r => r.N))).ToArray()),
            leftColumns: 4);
        h.Append("<p>").Append(HtmlEncode($"Class sensitivity: each method's map for the second most probable class against its map for the predicted class, both on the original model ({n} images). " +
            "Similar maps mean the method hardly depends on the class it explains.")).Append("</p>\n");
        Table(h, ["method", "patterns", .. SanityReport.Metrics.Select(m => m.Name), "n"],
            classes.GroupBy(r => (r.Method, r.Patterns)).Select(g => new[] { g.Key.Method, g.Key.Patterns }
                .Concat(metrics.Select(m => g.FirstOrDefault(r => r.Metric == m) is { } r ? Ci(r.Value) : "")).Append(ImageCount(g.Select(r => r.N))).ToArray()),
            leftColumns: 2);
    }

    /// <summary>Images behind a row's measures: one number, or "min–max" where a measure is undefined on some images
    /// (a constant map has no Spearman, while its SSIM is defined).</summary>
    static string ImageCount(IEnumerable<int> counts)
    {
        int lo = counts.Min(), hi = counts.Max();
        return lo == hi ? hi.ToString(CultureInfo.InvariantCulture) : $"{lo.ToString(CultureInfo.InvariantCulture)}–{hi.ToString(CultureInfo.InvariantCulture)}";
    }

    static string Ci(Interval v) => $"{N(v.Value, "0.000")} [{N(v.Low, "0.000")}, {N(v.High, "0.000")}]";

    static string EffectiveConfig(PipelineConfig c) => JsonSerializer.Serialize(new
    {
        name = c.Name, track = PipelineConfig.TrackName(c.Track), protocol = c.Protocol.ToString().ToLowerInvariant(), quirks = c.Quirks.ToKeyObject(),
        seed = c.Seed, val_size = c.ValSize, batch_size = c.BatchSize, shard_size = c.ShardSize, device = c.Device,
        degrade = new
        {
            patch_size = c.Degrade.PatchSize, n_patches = c.Degrade.NPatches, orders = c.Degrade.Orders, engine = c.Degrade.Engine,
            replacement = c.Degrade.Replacements, road_noise = c.Degrade.Replacements.Contains(DegradeConfig.Road) ? c.Degrade.RoadNoise : (double?)null,
        },
        methods = c.Methods.Select(m => m.ToKeyObject()).ToArray(),
    }, new JsonSerializerOptions { WriteIndented = true });

    static IEnumerable<(string Name, string Version)> Versions()
    {
        yield return ("pgig", Informational(typeof(HtmlReport).Assembly));
        yield return (".NET", RuntimeInformation.FrameworkDescription);
        yield return ("OS", RuntimeInformation.OSDescription);
        yield return ("TorchSharp", Informational(typeof(TorchSharp.torch).Assembly));
        yield return ("Parquet.Net", Informational(typeof(Parquet.ParquetReader).Assembly));
        yield return ("ScottPlot", Informational(typeof(ScottPlot.Plot).Assembly));
        yield return ("SkiaSharp", Informational(typeof(SkiaSharp.SKCanvas).Assembly));
    }

    static string Informational(Assembly a) =>
        a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? a.GetName().Version?.ToString() ?? "unknown";

    static void Table(StringBuilder h, string[] header, IEnumerable<string[]> rows, int leftColumns, Func<string[], bool>? highlight = null)
    {
        h.Append("<table><thead><tr>");
        for (int i = 0; i < header.Length; i++) h.Append(i < leftColumns ? "<th class=\"l\">" : "<th>").Append(HtmlEncode(header[i])).Append("</th>");
        h.Append("</tr></thead><tbody>\n");
        foreach (var r in rows)
        {
            h.Append(highlight?.Invoke(r) == true ? "<tr class=\"sig\">" : "<tr>");
            for (int i = 0; i < r.Length; i++) h.Append(i < leftColumns ? "<td class=\"l\">" : "<td>").Append(HtmlEncode(r[i])).Append("</td>");
            h.Append("</tr>\n");
        }
        h.Append("</tbody></table>\n");
    }

    static string N(double v, string format = "0.0000") => v.ToString(format, CultureInfo.InvariantCulture);
}
