using PgIg.Pipeline;
using PgIg.Reporting;
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

        // every pair per ranked order, the random order joining as one more method; Holm within each order
        var pairwise = File.ReadAllLines(Path.Combine(dir, "pairwise.csv"));
        Assert.Equal("method_a,method_b,order,images,mean_diff,ci_low,ci_high,p_value,p_holm,better", pairwise[0]);
        var pairs = pairwise.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(new[] { "vanilla_grad/grad_x_input/morf", $"vanilla_grad/{Reports.RandomOrderName}/morf", $"grad_x_input/{Reports.RandomOrderName}/morf",
            "vanilla_grad/grad_x_input/lerf", $"vanilla_grad/{Reports.RandomOrderName}/lerf", $"grad_x_input/{Reports.RandomOrderName}/lerf" },
            pairs.Select(r => $"{r[0]}/{r[1]}/{r[2]}"));
        foreach (var r in pairs)
        {
            double Num(int i) => double.Parse(r[i], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal("20", r[3]);
            Assert.True(Num(5) <= Num(4) && Num(4) <= Num(6), string.Join(",", r));
            Assert.InRange(Num(7), 0, 1);
            Assert.True(Num(8) >= Num(7));
            Assert.Contains(r[9], new[] { r[0], r[1], "none" });
        }
        // the MoRF figure carries the random order as its reference line; LeRF's does not
        Assert.Matches(@">\s*random_order\s*<", File.ReadAllText(Path.Combine(dir, "degradation.svg")));
        Assert.DoesNotMatch(@">\s*random_order\s*<", File.ReadAllText(Path.Combine(dir, "degradation_lerf.svg")));

        foreach (var f in new[] { "summary.png", "summary.svg", "summary_lerf.png", "summary_lerf.svg", "degradation_random.svg",
            "pairwise_morf.png", "pairwise_morf.svg", "pairwise_lerf.png", "pairwise_lerf.svg" })
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
    public async Task Insertion_is_an_order_with_its_own_files_and_a_ranking_independent_start()
    {
        string yaml = _h.Yaml("  - vanilla_grad\n  - grad_x_input")
            .Replace("degrade: {patch_size: 4, n_patches: 12}", "degrade: {patch_size: 4, n_patches: 12, orders: [morf, insertion, random]}");
        await _h.RunAsync(yaml);
        var plan = _h.Plan(yaml);
        string dir = plan.Cache.DirectoryOf(plan.PlotsKey!);

        Assert.Equal("patches,vanilla_grad,grad_x_input", File.ReadLines(Path.Combine(dir, "degradation_insertion.csv")).First());
        var summary = File.ReadAllLines(Path.Combine(dir, "summary.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(2, summary.Count(r => r[1] == "insertion"));
        // the random order is a deletion reference: it is paired with MoRF only, never with insertion
        var pairs = File.ReadAllLines(Path.Combine(dir, "pairwise.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(new[] { "vanilla_grad/grad_x_input" }, pairs.Where(r => r[2] == "insertion").Select(r => $"{r[0]}/{r[1]}"));
        foreach (var f in new[] { "degradation_insertion.png", "degradation_insertion.svg", "summary_insertion.png", "summary_insertion.svg", "pairwise_insertion.png" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        var svg = File.ReadAllText(Path.Combine(dir, "summary_insertion.svg"));
        Assert.Contains("AUC (higher = better)", svg);
        Assert.Contains("# patches restored", File.ReadAllText(Path.Combine(dir, "degradation_insertion.svg")));

        // step 0 of insertion is the fully degraded image, whatever the ranking: the same for every method
        async Task<Dictionary<long, float>> First(string stage)
        {
            var d = new Dictionary<long, float>();
            foreach (var u in plan.Get(stage).Units)
                foreach (var r in (await ParquetFiles.ReadAsync<CurveRow>(Path.Combine(plan.Cache.DirectoryOf(u.Key), "curves.parquet"))).Where(r => r.Order == "insertion"))
                    d[r.ImageId] = r.Curve[0];
            return d;
        }
        var a = await First("Degrade:vanilla_grad");
        var b = await First("Degrade:grad_x_input");
        Assert.Equal(20, a.Count);
        foreach (var (id, v) in a) Assert.Equal(v, b[id], 5);
        Assert.True(Reports.IsResultFile("degradation_insertion.csv") && Reports.IsResultFile("pairwise_insertion.svg"));
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
