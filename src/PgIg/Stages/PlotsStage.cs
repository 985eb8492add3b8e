using System.Text.Json;
using PgIg.Config;
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
        // per replacement its curves; mean's names are the original's (no family part), so a mean-only key is unchanged
        var upstream = c.Degrade.Replacements.SelectMany(r => c.Methods.SelectMany(m => degrade.KeysOf(m, r).Select((k, i) => ($"{m.Name}{Family(r)}/{i:0000}", k))))
            .Concat(c.Methods.Select(m => ($"attribute-grid:{m.Name}", attribute.KeysOf(m)[0])))
            .Append(("preprocess-grid", pre[0]))
            .Concat(c.Degrade.Replacements.SelectMany(r => degrade.RandomOrderKeysOf(r).Select((k, i) => ($"random_order{Family(r)}/{i:0000}", k)))).ToList();
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
        Key = new StageKey("plots", "plots", "plots-v4", config, upstream);
        return [Planned([new StageUnit(Key, upstream.Select(u => u.Item2).ToList(), w => PlotsAsync(p, w))])];
    }

    static string Family(string replacement) => replacement == DegradeConfig.Mean ? "" : "/" + replacement;

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
        await Reports.WriteAsync(w, c, p.Track, families, gridImages, grid, units);
    }
}
