using PgIg.Pipeline;
using PgIg.Stages;
using Xunit;

namespace PgIg.Tests.Pipeline;

/// <summary>degrade.replacement: [mean, road] through the pipeline: its own Degrade units, curves and result files, mean untouched.</summary>
[Collection("pipeline")]
public class RoadPipelineTests : IDisposable
{
    readonly PipelineHarness _h = new();

    public void Dispose() => _h.Dispose();

    string Config(string degrade) => _h.Yaml("  - vanilla_grad\n  - grad_x_input")
        .Replace("degrade: {patch_size: 4, n_patches: 12}", $"degrade: {{patch_size: 4, n_patches: 12, orders: [morf, random]{degrade}}}");

    [Fact]
    public async Task Road_gets_its_own_units_curves_and_results_and_leaves_mean_keys_alone()
    {
        string meanOnly = Config(""), both = Config(", replacement: [mean, road]");
        var meanPlan = _h.Plan(meanOnly);
        await meanPlan.RunAsync("Data");
        meanPlan = _h.Plan(meanOnly);
        await _h.RunAsync(both);
        var plan = _h.Plan(both);

        // mean units: the same slots and keys as without road; road units beside them in the same Degrade stage
        foreach (var stage in new[] { "Degrade:vanilla_grad", "Degrade:grad_x_input", DegradeStage.RandomOrderStage })
        {
            var mean = meanPlan.Get(stage).Units.Select(u => (u.Key.Slot, u.Key.Hash)).ToList();
            var units = plan.Get(stage).Units;
            Assert.Equal(mean, units.Where(u => DegradeStage.ReplacementOf(u.Key) == "mean").Select(u => (u.Key.Slot, u.Key.Hash)));
            var road = units.Where(u => DegradeStage.ReplacementOf(u.Key) == "road").ToList();
            Assert.Equal(mean.Count, road.Count);
            Assert.All(road, u => Assert.Contains("/road/shard-", u.Key.Slot));
            Assert.Empty(road.Select(u => u.Key.Hash).Intersect(mean.Select(m => m.Hash)));
        }

        // road curves start at the clean image like mean's and then differ from them
        async Task<Dictionary<long, float[]>> Curves(string replacement)
        {
            var d = new Dictionary<long, float[]>();
            foreach (var u in plan.Get("Degrade:vanilla_grad").Units.Where(u => DegradeStage.ReplacementOf(u.Key) == replacement))
                foreach (var r in (await ParquetFiles.ReadAsync<CurveRow>(Path.Combine(plan.Cache.DirectoryOf(u.Key), "curves.parquet"))).Where(r => r.Order == "morf"))
                    d[r.ImageId] = r.Curve;
            return d;
        }
        var meanCurves = await Curves("mean");
        var roadCurves = await Curves("road");
        Assert.Equal(20, roadCurves.Count);
        Assert.All(roadCurves, kv => Assert.Equal(meanCurves[kv.Key][0], kv.Value[0], 5));
        Assert.Contains(roadCurves, kv => Math.Abs(kv.Value[^1] - meanCurves[kv.Key][^1]) > 1e-3);

        string dir = plan.Cache.DirectoryOf(plan.PlotsKey!);
        foreach (var f in new[] { "summary_road.csv", "degradation_road.csv", "degradation_random_road.csv", "pairwise_road.csv",
                     "degradation_road.png", "degradation_road.svg", "summary_road.png", "pairwise_morf_road.png", "summary.csv", "degradation.csv" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.True(PgIg.Reporting.Reports.IsResultFile("degradation_lerf_road.svg") && PgIg.Reporting.Reports.IsResultFile("pairwise_road.csv"));
        var roadSummary = File.ReadAllLines(Path.Combine(dir, "summary_road.csv"));
        Assert.Equal(File.ReadLines(Path.Combine(dir, "summary.csv")).First(), roadSummary[0]);
        Assert.Equal(new[] { "vanilla_grad/morf", "grad_x_input/morf", "random_order/random" }, roadSummary.Skip(1).Select(l => string.Join('/', l.Split(',').Take(2))));
        Assert.NotEqual(File.ReadAllLines(Path.Combine(dir, "summary.csv"))[1], roadSummary[1]);
        Assert.Contains("ROAD", File.ReadAllText(Path.Combine(dir, "degradation_road.svg")));
        Assert.DoesNotContain("ROAD", File.ReadAllText(Path.Combine(dir, "degradation.svg")));
        var report = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Contains("Summary (ROAD: noisy linear imputation)", report);
        Assert.Contains("summary_road.png", report);

        // another noise recomputes the road units and the plots, nothing of mean
        var again = PipelineHarness.Computed(await _h.RunAsync(both.Replace("replacement: [mean, road]", "replacement: [mean, road], road_noise: 0.02")));
        Assert.Equal(["degrade:grad_x_input/road/shard-0000", "degrade:grad_x_input/road/shard-0001", "degrade:random_order/road/shard-0000",
            "degrade:random_order/road/shard-0001", "degrade:vanilla_grad/road/shard-0000", "degrade:vanilla_grad/road/shard-0001", "plots"], again);
    }
}
