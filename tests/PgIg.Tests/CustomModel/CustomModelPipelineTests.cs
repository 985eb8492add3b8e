using PgIg.Cli;
using PgIg.Formats;
using PgIg.Pipeline;
using PgIg.Reporting;
using Xunit;

namespace PgIg.Tests.CustomModel;

/// <summary>config/custom-model-example.yaml end to end, as README "Your own model" runs it: results, the export with the
/// estimated patterns, and a second run that takes everything from the cache.</summary>
public sealed class CustomModelPipelineTests : IDisposable
{
    readonly CustomModelExample _ex = new();

    public void Dispose() => _ex.Dispose();

    [Fact]
    public async Task The_example_runs_exports_its_patterns_and_is_cached_the_second_time()
    {
        var c = _ex.Config();
        var plan = await _ex.PlanWithDataAsync(c);
        await plan.RunAsync("Plots");
        Reports.Publish(plan.Cache.DirectoryOf(plan.PlotsKey!), c.ResultsDir);
        var summary = File.ReadAllLines(Path.Combine(c.ResultsDir, "summary.csv"));
        Assert.Equal(c.Methods.Count + 1, summary.Length);
        Assert.All(c.Methods, m => Assert.Contains(summary, l => l.StartsWith(m.Name + ",morf,3,", StringComparison.Ordinal)));

        string config = Path.Combine(_ex.Dir, "config.yaml"), outDir = Path.Combine(_ex.Dir, "export");
        Assert.Equal(0, await PgIgCli.RunAsync(["export", "--config", config, "--out", outDir]));
        using (var npz = new NpzReader(Path.Combine(outDir, "patterns.npz")))
        {
            // one pattern per conv/linear layer, the original's layout: dense stored (in, out)
            Assert.Equal(["A_0", "A_1", "A_2", "A_3", "A_4"], npz.Keys.Order());
            Assert.Equal([4L, 3, 3, 3], npz.ReadHeader("A_0").Shape);
            Assert.Equal([36L, 8], npz.ReadHeader("A_3").Shape);
            Assert.Contains(npz.ReadFloat32("A_0", [4, 3, 3, 3]), v => v != 0);
        }
        string files = Path.Combine(outDir, "image_files.npy");
        using (var fs = File.OpenRead(files))
        {
            var names = NpyReader.ReadStrings(fs, NpyReader.ReadHeader(fs, files), files);
            Assert.Equal(["animals/bee.jpg", "animals/elephant.png", "buildings/castle.jpg"], names.Order());
        }

        var rerun = _ex.Plan(c);
        foreach (var stage in rerun.Stages)
            Assert.Equal(0, (await rerun.RunAsync(stage.Name)).Computed);
    }
}
