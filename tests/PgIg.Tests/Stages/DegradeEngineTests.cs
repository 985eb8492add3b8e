using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tests.Pipeline;
using Xunit;

namespace PgIg.Tests.Stages;

/// <summary>The Degrade stage's two engines give the same curves on the trained Fashion CNN, every order, both protocols.</summary>
public sealed class DegradeEngineTests : IDisposable
{
    readonly PipelineHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Theory]
    [InlineData("faithful")]
    [InlineData("corrected")]
    public async Task Incremental_and_full_engines_agree_to_1e_6(string protocol)
    {
        string Yaml(string engine) => _h.Yaml("  - vanilla_grad\n  - pattern_integrate_grad")
            .Replace("protocol: faithful", $"protocol: {protocol}")
            .Replace("degrade: {patch_size: 4, n_patches: 12}", $"degrade: {{patch_size: 4, n_patches: 30, orders: [morf, lerf, random], engine: {engine}}}");
        async Task<Dictionary<string, float[]>> Curves(string engine)
        {
            await _h.RunAsync(Yaml(engine), "Plots");
            var plan = _h.Plan(Yaml(engine));
            var curves = new Dictionary<string, float[]>();
            foreach (var stage in plan.Resolve("Degrade"))
                foreach (var u in stage.Units)
                    foreach (var r in await ParquetFiles.ReadAsync<CurveRow>(Path.Combine(plan.Cache.DirectoryOf(u.Key), "curves.parquet")))
                        curves[$"{stage.Name}/{r.Order}/{r.ImageId}"] = r.Curve;
            return curves;
        }
        var full = await Curves("full");
        var incremental = await Curves("incremental");
        Assert.Equal(20 * 2 * 2 + 20, full.Count); // 2 methods × 2 ranked orders + the shared random order, 20 images
        Assert.Equal(full.Keys.Order(), incremental.Keys.Order());
        double worst = full.Max(kv => kv.Value.Zip(incremental[kv.Key], (a, b) => Math.Abs(a - b)).Max());
        Assert.InRange(worst, 0, 1e-6);
    }
}
