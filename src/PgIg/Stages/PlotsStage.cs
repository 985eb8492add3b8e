using System.Text.Json;
using PgIg.Config;
using PgIg.Degradation;
using PgIg.Models;
using PgIg.Pipeline;
using PgIg.Reporting;

namespace PgIg.Stages;

/// <summary>
/// Plots: everything a reader looks at, from every method's curves and the first shard's maps: degradation
/// CSVs and figures, AUC/AOPC summaries with bootstrap intervals, the pairwise comparison, the saliency grid and
/// report.html (<see cref="Reports"/>).
/// </summary>
public sealed class PlotsStage : Stage
{
    public override string Name => "Plots";

    public StageKey? Key { get; private set; }

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        var c = p.Config;
        var data = p.Get<DataStage>();
        if (data.Images is null) return [NotYetKnown()];
        var pre = p.Get<PreprocessStage>().Keys;
        var attribute = p.Get<AttributeStage>();
        var degrade = p.Get<DegradeStage>();
        var sanity = p.Get<SanityStage>();
        // per replacement its curves; mean's names are the original's (no family part), so a mean-only key is unchanged
        var upstream = c.Degrade.Replacements.SelectMany(r => c.Methods.SelectMany(m => degrade.KeysOf(m, r).Select((k, i) => ($"{m.Name}{Family(r)}/{i:0000}", k))))
            .Concat(c.Methods.Select(m => ($"attribute-grid:{m.Name}", attribute.KeysOf(m)[0])))
            .Append(("preprocess-grid", pre[0]))
            .Concat(c.Degrade.Replacements.SelectMany(r => degrade.RandomOrderKeysOf(r).Select((k, i) => ($"random_order{Family(r)}/{i:0000}", k))))
            // only with sanity on: a config without it keeps its Plots key
            .Concat(sanity.Methods.SelectMany(m => sanity.KeysOf(m).Select((k, i) => ($"sanity:{m.Name}/{i:0000}", k)))).ToList();
        object config = new
        {
            methods = c.Methods.Select(m => m.Name).ToArray(), plots = new { title = c.Plots.Title, grid_images = c.Plots.GridImages, y_from_zero = c.Plots.YFromZero },
            dataset = p.Track.DatasetLabel, images = data.Images.Count,
            protocol = c.Protocol.ToString().ToLowerInvariant(), quirks = c.Quirks.ToKeyObject(), name = c.Name, orders = c.Degrade.Orders, bootstrap_seed = c.Seed,
        };
        if (!c.Degrade.Replacements.SequenceEqual([DegradeConfig.Mean]))
        {
            var node = JsonSerializer.SerializeToNode(config)!.AsObject();
            node["replacements"] = JsonSerializer.SerializeToNode(c.Degrade.Replacements);
            config = node;
        }
        Key = new StageKey("plots", "plots", new CodeId("plots-v6", p.Run.Fingerprints.Of("plots/statistics", Probe)), config, upstream);
        return [Planned([new StageUnit(Key, upstream.Select(u => u.Item2).ToList(), w => PlotsAsync(p, w))])];
    }

    static string Family(string replacement) => replacement == DegradeConfig.Mean ? "" : "/" + replacement;

    /// <summary>Fingerprint probe of the numbers in the CSVs: summaries (AUC, AOPC, bootstrap intervals) and the pairwise
    /// comparison of three methods' fixed curves (6 images, 8 steps) per order. The figures' drawing is versioned by hand.</summary>
    static void Probe(NumericDigest d)
    {
        var curves = Enumerable.Range(0, 3).Select(m => Enumerable.Range(0, 6)
            .Select(i => ProbeInput.Uniform($"curve{m}/{i}", 8).Select(v => (float)((v + 1) / 2)).ToArray()).ToList()).ToList();
        for (int m = 0; m < 3; m++)
        {
            var s = CurveStatistics.Summarise($"m{m}", "morf", curves[m], 7, resamples: 200);
            d.AddSeries($"m{m}/summary", [s.Auc.Value, s.Auc.Low, s.Auc.High, s.Aopc.Value, s.Aopc.Low, s.Aopc.High]).AddSeries($"m{m}/mean", s.MeanCurve);
        }
        var auc = curves.Select((c, m) => ($"m{m}", (IReadOnlyDictionary<long, double>)c.Select((x, i) => (i, CurveStatistics.Auc(x))).ToDictionary(t => (long)t.i, t => t.Item2))).ToList();
        foreach (var order in new[] { "morf", "lerf" })
            foreach (var r in PairedStatistics.Compare(auc, order, 7, resamples: 200))
                d.AddSeries($"{order}/{r.MethodA}-{r.MethodB}", [r.MeanDiff, r.CiLow, r.CiHigh, r.PValue, r.PHolm]).AddExact($"{order}/{r.MethodA}-{r.MethodB}/better", [r.Better == r.MethodA ? 1 : r.Better == r.MethodB ? 2 : 0]);
    }

    /// <summary>Every Sanity unit's results (read verified), or null with sanity off.</summary>
    static async Task<SanityResults?> ReadSanityAsync(PlanContext p)
    {
        var sanity = p.Get<SanityStage>();
        if (sanity.Methods.Count == 0) return null;
        var methods = new List<SanityMethod>();
        foreach (var m in sanity.Methods)
        {
            var (similarity, classRows) = await sanity.ReadAsync(m);
            methods.Add(new SanityMethod(m.Name, sanity.VariantsOf(m), similarity, classRows, await sanity.ReadExamplesAsync(m)));
        }
        var example = (await p.Get<PreprocessStage>().ReadShardAsync(0))[0];
        return new SanityResults(sanity.Levels, methods, example);
    }

    static async Task PlotsAsync(PlanContext p, ArtifactWriter w)
    {
        var c = p.Config;
        var attribute = p.Get<AttributeStage>();
        var degrade = p.Get<DegradeStage>();
        var families = new Dictionary<string, Dictionary<string, List<CurveRow>>>();
        foreach (var r in c.Degrade.Replacements)
        {
            var results = new Dictionary<string, List<CurveRow>>();
            foreach (var m in c.Methods)
            {
                var all = new List<CurveRow>();
                for (int i = 0; i < degrade.KeysOf(m, r).Count; i++) all.AddRange(await degrade.ReadCurvesAsync(m, i, r));
                results[m.Name] = all;
            }
            // the random order's curves are one set for all methods; every method's series list carries them
            var random = new List<CurveRow>();
            for (int i = 0; i < degrade.RandomOrderKeysOf(r).Count; i++) random.AddRange(await degrade.ReadCurvesAsync(null, i, r));
            foreach (var list in results.Values) list.AddRange(random);
            families[r] = results;
        }
        var grid = new List<(string Method, List<MapRow> Maps)>();
        foreach (var m in c.Methods) grid.Add((m.Name, (await attribute.ReadMapsAsync(m, 0)).Take(c.Plots.GridImages).ToList()));
        var gridImages = (await p.Get<PreprocessStage>().ReadShardAsync(0)).Take(c.Plots.GridImages).ToList();
        // every other unit of the plan, with its time from its manifest, for the report
        var units = p.PlannedStages.Where(s => s.Group != "Plots").SelectMany(s => s.Units.Select(u => (s.Name, u.Key))).Select(x =>
        {
            var m = Manifest.TryRead(p.Cache.DirectoryOf(x.Key));
            return new ReportUnit(x.Name, x.Key.Slot, x.Key.Hash, m?.DurationSeconds, m?.CreatedUtc);
        }).ToList();
        await Reports.WriteAsync(w, c, p.Track, families, gridImages, grid, units, await ReadSanityAsync(p));
    }
}
