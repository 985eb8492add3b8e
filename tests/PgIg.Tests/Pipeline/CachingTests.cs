using PgIg.Pipeline;
using Xunit;

namespace PgIg.Tests.Pipeline;

[Collection("pipeline")]
public class CachingTests : IDisposable
{
    readonly PipelineHarness _h = new();
    const string Methods = """
          - vanilla_grad
          - {name: integrate_grad, method: integrate_grad, params: {steps: 5}}
          - pattern_integrate_grad
        """;

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task Second_run_computes_nothing_and_every_stage_is_fresh()
    {
        var first = await _h.RunAsync(_h.Yaml(Methods));
        Assert.Contains("plots", PipelineHarness.Computed(first));
        Assert.True(File.Exists(Path.Combine(_h.Dir, "cache", "plots", _h.Plan(_h.Yaml(Methods)).PlotsKey!.Hash, "degradation.csv")));

        var second = await _h.RunAsync(_h.Yaml(Methods));
        Assert.Empty(PipelineHarness.Computed(second));
        Assert.All(_h.Plan(_h.Yaml(Methods)).Status(), s => Assert.Equal(Freshness.Fresh, s.State));
    }

    [Fact]
    public async Task Changing_one_method_parameter_recomputes_exactly_that_methods_attribute_degrade_and_plots()
    {
        await _h.RunAsync(_h.Yaml(Methods));
        var changed = Methods.Replace("steps: 5", "steps: 6");

        var status = _h.Plan(_h.Yaml(changed)).Status().ToDictionary(s => s.Stage);
        Assert.Equal(Freshness.Stale, status["Attribute:integrate_grad"].State);
        Assert.Contains("config.method.params.steps: 5 → 6", status["Attribute:integrate_grad"].Reason);
        Assert.Equal(Freshness.Stale, status["Degrade:integrate_grad"].State);
        Assert.Contains("upstream.attribute changed", status["Degrade:integrate_grad"].Reason);
        Assert.Equal(Freshness.Fresh, status["Attribute:pattern_integrate_grad"].State);

        var computed = PipelineHarness.Computed(await _h.RunAsync(_h.Yaml(changed)));
        Assert.Equal(new[]
        {
            "attribute:integrate_grad/shard-0000", "attribute:integrate_grad/shard-0001",
            "degrade:integrate_grad/shard-0000", "degrade:integrate_grad/shard-0001", "plots",
        }, computed);
    }

    [Fact]
    public async Task Require_cached_refuses_to_compute_and_group_names_stand_for_every_method()
    {
        await _h.RunAsync(_h.Yaml(Methods));
        var plan = _h.Plan(_h.Yaml(Methods));
        Assert.Equal((0, 1), await plan.RunAsync("Plots", requireCached: true));
        Assert.Equal(new[] { "Attribute:vanilla_grad", "Attribute:integrate_grad", "Attribute:pattern_integrate_grad" },
            plan.Resolve("attribute").Select(s => s.Name));
        Assert.Equal("Data", Assert.Single(plan.Resolve("Data")).Name);

        var changed = _h.Plan(_h.Yaml(Methods.Replace("steps: 5", "steps: 7")));
        var e = await Assert.ThrowsAsync<NotCachedException>(() => changed.RunAsync("Plots", requireCached: true));
        Assert.Contains("attribute:integrate_grad/shard-0000 would be computed", e.Message);
        Assert.Equal(CacheStatus.Missing, changed.Cache.Check(changed.Get("Attribute:integrate_grad").Units[0].Key).Status); // nothing computed
        Assert.Contains("is not sharded", (await Assert.ThrowsAsync<ArgumentException>(() => plan.RunAsync("Plots", shard: 0))).Message);
    }

    [Fact]
    public async Task Raising_val_size_reuses_every_existing_shard()
    {
        await _h.RunAsync(_h.Yaml(Methods, valSize: 20));
        var computed = PipelineHarness.Computed(await _h.RunAsync(_h.Yaml(Methods, valSize: 30)));
        Assert.Equal(new[]
        {
            "attribute:integrate_grad/shard-0002", "attribute:pattern_integrate_grad/shard-0002", "attribute:vanilla_grad/shard-0002",
            "degrade:integrate_grad/shard-0002", "degrade:pattern_integrate_grad/shard-0002", "degrade:vanilla_grad/shard-0002",
            "plots", "predict/shard-0002", "preprocess/shard-0002",
        }, computed);
    }

    [Fact]
    public async Task A_corrupted_artifact_is_never_a_cache_hit()
    {
        await _h.RunAsync(_h.Yaml(Methods));
        var plan = _h.Plan(_h.Yaml(Methods));
        var key = plan.Get("Attribute:vanilla_grad").Units[1].Key;
        var file = Path.Combine(plan.Cache.DirectoryOf(key), "maps.parquet");
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(file, bytes);

        var status = plan.Status().Single(s => s.Stage == "Attribute:vanilla_grad");
        Assert.NotEqual(Freshness.Fresh, status.State);
        Assert.Contains("invalid", status.Reason);

        var computed = PipelineHarness.Computed(await _h.RunAsync(_h.Yaml(Methods), "Attribute:vanilla_grad"));
        Assert.Equal(new[] { "attribute:vanilla_grad/shard-0001" }, computed);
        Assert.Contains(_h.Messages, m => m.Contains("not valid") && m.Contains("recomputing"));
        Assert.Equal(CacheStatus.Fresh, plan.Cache.Check(key).Status);
    }

    [Fact]
    public async Task A_directory_without_manifest_is_recomputed()
    {
        await _h.RunAsync(_h.Yaml(Methods));
        var plan = _h.Plan(_h.Yaml(Methods));
        var key = plan.Get("Degrade:vanilla_grad").Units[0].Key;
        File.Delete(Path.Combine(plan.Cache.DirectoryOf(key), Manifest.FileName));
        Assert.Equal(CacheStatus.Invalid, plan.Cache.Check(key).Status);
        var computed = PipelineHarness.Computed(await _h.RunAsync(_h.Yaml(Methods)));
        Assert.Contains("degrade:vanilla_grad/shard-0000", computed);
        Assert.DoesNotContain("degrade:vanilla_grad/shard-0001", computed);
    }
}

[CollectionDefinition("pipeline", DisableParallelization = true)]
public class PipelineCollection;

[Collection("pipeline")]
public class CleanAndCliTests : IDisposable
{
    readonly PipelineHarness _h = new();
    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task Clean_removes_exactly_the_artifacts_the_config_does_not_reference()
    {
        const string both = "  - vanilla_grad\n  - {name: integrate_grad, method: integrate_grad, params: {steps: 4}}";
        await _h.RunAsync(_h.Yaml(both));
        var onlyVanilla = _h.Plan(_h.Yaml("  - vanilla_grad"));
        var (kept, removed, _, _) = CacheCleaner.RemoveUnreferenced(onlyVanilla.Cache, onlyVanilla.AllKeys());
        Assert.True(removed >= 5, $"removed {removed}");       // 2 attribute + 2 degrade shards of IG, the old plots
        Assert.Equal(onlyVanilla.AllKeys().Count(k => onlyVanilla.Cache.Check(k).Status == CacheStatus.Fresh), kept);
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(_h.CacheDir, "attribute")).Where(d => !Path.GetFileName(d).StartsWith('.'))
            .Select(Manifest.TryRead), m => m!.Slot.StartsWith("attribute:integrate_grad", StringComparison.Ordinal));
        // what the current config uses is untouched: its stages are still fresh except Plots (never computed for it)
        Assert.All(onlyVanilla.Status().Where(s => s.Stage != "Plots"), s => Assert.Equal(Freshness.Fresh, s.State));
    }

    [Fact]
    public void Cli_reports_a_bad_config_in_one_line_and_exits_non_zero()
    {
        var cfg = Path.Combine(_h.Dir, "bad.yaml");
        File.WriteAllText(cfg, "track: fashion-mnist\nmethods: [vanila_grad]\n");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "pgig.dll"), "status", "--config", cfg }) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(1, p.ExitCode);
        Assert.Equal($"pgig: error: {cfg}:2:11: unknown method 'vanila_grad' (did you mean 'vanilla_grad'?)", err.Split(';')[0].Trim());
    }
}
