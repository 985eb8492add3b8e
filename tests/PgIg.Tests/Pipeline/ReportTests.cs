using PgIg.Pipeline;
using PgIg.Stages;
using Xunit;

namespace PgIg.Tests.Pipeline;

[Collection("pipeline")]
public class ReportTests : IDisposable
{
    readonly PipelineHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task Every_ranked_order_gets_a_summary_figure_and_the_random_order_is_reported_once()
    {
        string yaml = _h.Yaml("  - vanilla_grad\n  - grad_x_input",
                extra: "quirks: {skip_top_patch: false}")
            .Replace("degrade: {patch_size: 4, n_patches: 12}", "degrade: {patch_size: 4, n_patches: 12, orders: [morf, lerf, random]}");
        await _h.RunAsync(yaml);
        var plan = _h.Plan(yaml);
        string dir = plan.Cache.DirectoryOf(plan.PlotsKey!);

        var summary = File.ReadAllLines(Path.Combine(dir, "summary.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(new[] { "vanilla_grad/morf", "grad_x_input/morf", "vanilla_grad/lerf", "grad_x_input/lerf", $"{Reports.RandomOrderName}/random" },
            summary.Select(r => $"{r[0]}/{r[1]}"));
        Assert.Equal($"patches,{Reports.RandomOrderName}", File.ReadLines(Path.Combine(dir, "degradation_random.csv")).First());
        Assert.Equal("patches,vanilla_grad,grad_x_input", File.ReadLines(Path.Combine(dir, "degradation_lerf.csv")).First());

        // the random order ignores the maps: it is computed once, in its own stage, and no method's Degrade repeats it
        async Task<List<float[]>> Curves(string stage, string order)
        {
            var rows = new List<float[]>();
            foreach (var u in plan.Get(stage).Units)
                rows.AddRange((await ParquetFiles.ReadAsync<CurveRow>(Path.Combine(plan.Cache.DirectoryOf(u.Key), "curves.parquet")))
                    .Where(r => r.Order == order).OrderBy(r => r.ImageId).Select(r => r.Curve));
            return rows;
        }
        Assert.Equal(20, (await Curves(DegradeStage.RandomOrderStage, "random")).Count);
        Assert.Empty(await Curves("Degrade:vanilla_grad", "random"));
        Assert.Empty(await Curves("Degrade:grad_x_input", "random"));
        Assert.Equal(20, (await Curves("Degrade:grad_x_input", "lerf")).Count);

        foreach (var f in new[] { "summary.png", "summary.svg", "summary_lerf.png", "summary_lerf.svg", "degradation_random.svg" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.False(File.Exists(Path.Combine(dir, "summary_random.png")));
        var lerfSvg = File.ReadAllText(Path.Combine(dir, "summary_lerf.svg"));
        Assert.Contains("AUC (higher = better)", lerfSvg);
        Assert.Contains("AUC (lower = better)", File.ReadAllText(Path.Combine(dir, "summary.svg")));
        // subtitles name the quirk that differs from the protocol
        Assert.Contains("faithful protocol, skip_top_patch: false (B1)", lerfSvg);

        // publishing a config with fewer orders into the same results directory leaves no stale order files
        string results = Path.Combine(_h.Dir, "published");
        Reports.Publish(dir, results);
        File.WriteAllText(Path.Combine(results, "my-notes.txt"), "mine");
        Assert.True(File.Exists(Path.Combine(results, "summary_lerf.png")));
        string morfOnly = _h.Yaml("  - vanilla_grad\n  - grad_x_input");
        await _h.RunAsync(morfOnly);
        var morfPlan = _h.Plan(morfOnly);
        Reports.Publish(morfPlan.Cache.DirectoryOf(morfPlan.PlotsKey!), results);
        Assert.False(File.Exists(Path.Combine(results, "summary_lerf.png")));
        Assert.False(File.Exists(Path.Combine(results, "degradation_random.csv")));
        Assert.True(File.Exists(Path.Combine(results, "summary.png")));
        Assert.True(File.Exists(Path.Combine(results, "my-notes.txt"))); // not ours: untouched
    }

    [Fact]
    public async Task Figures_carry_the_config_name_MoRF_and_predicted_class_labels()
    {
        string yaml = _h.Yaml("  - pattern_vanilla_grad\n  - {name: pv_b, method: vanilla_grad, rule: pattern}")
            .Replace("degrade: {patch_size: 4, n_patches: 12}", "degrade: {patch_size: 4, n_patches: 12, orders: [morf, lerf]}");
        await _h.RunAsync(yaml);
        var plan = _h.Plan(yaml);
        string dir = plan.Cache.DirectoryOf(plan.PlotsKey!);
        var svgs = Directory.GetFiles(dir, "*.svg").ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        Assert.All(svgs, kv => Assert.Contains("test: Fashion-MNIST, 20 images", kv.Value)); // name: test
        Assert.All(svgs, kv => Assert.DoesNotContain("MORF", kv.Value));
        Assert.All(svgs, kv => Assert.DoesNotContain("LERF", kv.Value));
        Assert.Contains("(MoRF)", svgs["summary.svg"]);
        Assert.Contains("(LeRF)", svgs["summary_lerf.svg"]);
        Assert.Contains("MoRF, most relevant first", svgs["degradation.svg"]);
        Assert.Contains("predicted: ", svgs["saliency.svg"]);
    }
}
