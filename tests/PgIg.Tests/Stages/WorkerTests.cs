using PgIg.Cli;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tests.Pipeline;
using Xunit;

namespace PgIg.Tests.Stages;

/// <summary>`pgig run &lt;Stage&gt; --worker i/N`: N workers cover every shard of every stage exactly once.</summary>
public sealed class WorkerTests : IDisposable
{
    readonly PipelineHarness _h = new();

    public void Dispose() => _h.Dispose();

    string Yaml => _h.Yaml("  - vanilla_grad\n  - pattern_vanilla_grad", valSize: 30)
        .Replace("degrade: {patch_size: 4, n_patches: 12}", "degrade: {patch_size: 4, n_patches: 12, orders: [morf, random]}");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task Workers_partition_the_sharded_units_of_every_stage_up_to_the_target(int workers)
    {
        await _h.RunAsync(Yaml, "Data");
        var plan = _h.Plan(Yaml);
        var sharded = plan.Stages.Where(s => s.Group is "Preprocess" or "Predict" or "Attribute" or "Degrade").SelectMany(s => s.Units).Select(u => u.Key.Hash).ToList();
        Assert.Equal(3 * (1 + 1 + 2 + 3), sharded.Count); // 3 shards × (preprocess, predict, 2 methods' attribute, 2 methods' and the random order's degrade)
        var assigned = Enumerable.Range(0, workers).SelectMany(i => plan.WorkerUnits("Plots", i, workers)).Select(u => u.Key.Hash).ToList();
        Assert.Equal(sharded.Order(), assigned.Order()); // each exactly once, Plots in none
        // an earlier target: only its stage and those before it
        var upToAttribute = Enumerable.Range(0, workers).SelectMany(i => plan.WorkerUnits("Attribute", i, workers)).ToList();
        Assert.Equal(3 * 4, upToAttribute.Count);
        Assert.DoesNotContain(upToAttribute, u => u.Key.Stage == "degrade");
        // a target without shards: every worker computes it, under its lock
        Assert.All(Enumerable.Range(0, workers), i => Assert.Equal("patterns", Assert.Single(plan.WorkerUnits("Patterns", i, workers)).Key.Stage));
    }

    [Fact]
    public async Task Workers_then_plots_give_the_results_of_a_single_run()
    {
        await _h.RunAsync(Yaml, "Data");
        for (int i = 0; i < 2; i++)
        {
            var plan0 = _h.Plan(Yaml);
            // the summary a cluster log shows: every unit of the worker computed, also those another of its units needs
            Assert.Equal((plan0.WorkerUnits("Plots", i, 2).Count, 0), await plan0.RunWorkerAsync("Plots", i, 2));
        }
        var plan = _h.Plan(Yaml);
        Assert.All(plan.Stages.Where(s => s.Group != "Plots"), s => Assert.Equal(Freshness.Fresh, plan.Status().Single(x => x.Stage == s.Name).State));
        Assert.Equal(Freshness.Missing, plan.Status().Single(s => s.Stage == "Plots").State);
        var log = await _h.RunAsync(Yaml, "Plots");
        Assert.Equal(["plots"], PipelineHarness.Computed(log)); // the workers left nothing else to do
    }

    [Fact]
    public async Task Status_counts_a_unit_whose_lock_a_worker_holds_as_running()
    {
        await _h.RunAsync(Yaml, "Data");
        var plan = _h.Plan(Yaml);
        var unit = plan.Get("Attribute:vanilla_grad").Units[1];
        // another worker computing shard 1: it holds the key's lock until it has published
        using (FileLock.Acquire(ArtifactCache.LockPath(Path.Combine(plan.Cache.Root, unit.Key.Stage), unit.Key.Hash), TimeSpan.Zero))
        {
            var st = plan.Status().Single(s => s.Stage == "Attribute:vanilla_grad");
            Assert.Equal((0, 3, 1), (st.FreshUnits, st.TotalUnits, st.RunningUnits));
            Assert.Equal("0/3, 1 running", StatusTable.UnitsColumn(st));
            Assert.All(plan.Status().Where(s => s.Stage != "Attribute:vanilla_grad"), s => Assert.Equal(0, s.RunningUnits));
        }
        Assert.Equal(0, plan.Status().Single(s => s.Stage == "Attribute:vanilla_grad").RunningUnits); // released: missing, not running
    }

    [Theory]
    [InlineData("3/3", "the worker index must be 0…2")]
    [InlineData("0/0", "must be at least 1")]
    [InlineData("1", "is not i/N")]
    [InlineData("-1/2", "is not i/N")]
    public void Bad_worker_options_are_one_clear_message(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => PgIgCli.ParseWorker(text)).Message);
}
