using System.Diagnostics;
using PgIg.Pipeline;
using PgIg.Stages;
using Xunit;

namespace PgIg.Tests.Pipeline;

[Collection("pipeline")]
public class KillResumeTests : IDisposable
{
    readonly PipelineHarness _killed = new();
    readonly PipelineHarness _clean = new();
    const string Methods = "  - {name: integrate_grad, method: integrate_grad, params: {steps: 300}}";

    public void Dispose() { _killed.Dispose(); _clean.Dispose(); }

    static string PgigDll() => Path.Combine(AppContext.BaseDirectory, "pgig.dll");

    [Fact]
    public async Task Sigkill_during_attribute_leaves_nothing_complete_and_the_rerun_matches_an_uninterrupted_run()
    {
        string yaml = _killed.Yaml(Methods, valSize: 60);
        await _killed.RunAsync(yaml, "Preprocess");
        File.WriteAllText(Path.Combine(_killed.Dir, "config.yaml"), yaml);

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { PgigDll(), "run", "Attribute:integrate_grad", "--config", Path.Combine(_killed.Dir, "config.yaml") }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();

        // kill -9 as soon as the first shard is published, i.e. in the middle of the stage
        var log = new RunLog(Path.Combine(_killed.CacheDir, "runlog.jsonl"));
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!log.Read().Any(e => e.Slot.StartsWith("attribute:", StringComparison.Ordinal) && e.Action == "computed"))
        {
            Assert.False(p.HasExited, "pgig finished or failed before it could be killed");
            Assert.True(DateTime.UtcNow < deadline, "no shard was published within 2 minutes");
            await Task.Delay(20);
        }
        p.Kill(entireProcessTree: true);
        await p.WaitForExitAsync();

        var plan = _killed.Plan(yaml);
        var units = plan.Get("Attribute:integrate_grad").Units;
        int complete = units.Count(u => plan.Cache.Check(u.Key).Status == CacheStatus.Fresh);
        Assert.InRange(complete, 1, units.Count - 1);
        // every published directory is complete; partial work only ever lives in .tmp-* directories
        foreach (var dir in Directory.GetDirectories(Path.Combine(_killed.CacheDir, "attribute")).Where(d => !Path.GetFileName(d).StartsWith('.')))
            Assert.NotNull(Manifest.TryRead(dir));

        var resumed = PipelineHarness.Computed(await _killed.RunAsync(yaml, "Attribute:integrate_grad"));
        Assert.Equal(units.Count - complete, resumed.Count);

        string cleanYaml = _clean.Yaml(Methods, valSize: 60);
        await _clean.RunAsync(cleanYaml, "Attribute:integrate_grad");
        var cleanPlan = _clean.Plan(cleanYaml);
        for (int i = 0; i < units.Count; i++)
        {
            Assert.Equal(units[i].Key.Hash, cleanPlan.Get("Attribute:integrate_grad").Units[i].Key.Hash);
            var a = await ParquetFiles.ReadAsync<MapRow>(Path.Combine(plan.Cache.DirectoryOf(units[i].Key), "maps.parquet"));
            var b = await ParquetFiles.ReadAsync<MapRow>(Path.Combine(cleanPlan.Cache.DirectoryOf(units[i].Key), "maps.parquet"));
            Assert.Equal(b.Select(r => r.ImageId), a.Select(r => r.ImageId));
            for (int j = 0; j < a.Count; j++) Assert.Equal(b[j].Map, a[j].Map);
        }
    }
}
