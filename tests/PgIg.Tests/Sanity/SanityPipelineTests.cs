using PgIg.Tests.Pipeline;
using Xunit;

namespace PgIg.Tests.Sanity;

[Collection("pipeline")]
public sealed class SanityPipelineTests : IDisposable
{
    readonly PipelineHarness _h = new();
    const string Methods = "  - vanilla_grad\n  - pattern_vanilla_grad\n  - random";

    public void Dispose() => _h.Dispose();

    string Yaml(string sanity = "sanity: {images: 10, layers: 2}") => _h.Yaml(Methods, valSize: 20, extra: sanity);

    /// <summary>Every stage of the Sanity group (as `pgig run Sanity` resolves it), with the slots it computed.</summary>
    async Task<List<string>> RunSanityAsync(string yaml)
    {
        var computed = new List<string>();
        foreach (var stage in _h.Plan(yaml).Resolve("Sanity").Select(s => s.Name))
            computed.AddRange(PipelineHarness.Computed(await _h.RunAsync(yaml, stage)));
        return computed.Distinct().Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Sanity_is_cached_resumable_seeded_and_leaves_every_other_key_alone()
    {
        await _h.RunAsync(Yaml(), "Data");
        var plain = _h.Plan(_h.Yaml(Methods, valSize: 20));
        var with = _h.Plan(Yaml());
        var withKeys = with.AllKeys().Select(k => k.Hash).ToHashSet();
        Assert.All(plain.AllKeys().Where(k => k.Stage != "plots"), k => Assert.Contains(k.Hash, withKeys));
        Assert.NotEqual(plain.PlotsKey!.Hash, with.PlotsKey!.Hash);                      // Plots reads the Sanity units
        Assert.Equal(["Sanity:patterns", "Sanity:vanilla_grad", "Sanity:pattern_vanilla_grad", "Sanity:random"], with.Resolve("sanity").Select(s => s.Name));

        var first = await RunSanityAsync(Yaml());
        Assert.Equal(["attribute:pattern_vanilla_grad/shard-0000", "attribute:random/shard-0000", "attribute:vanilla_grad/shard-0000",
            "predict/shard-0000", "preprocess/shard-0000", "sanity:pattern_vanilla_grad/shard-0000", "sanity:patterns/level-01", "sanity:patterns/level-02",
            "sanity:random/shard-0000", "sanity:vanilla_grad/shard-0000"], first);             // the first 10 images: shard 0 only
        Assert.Empty(await RunSanityAsync(Yaml()));

        // a unit lost (as when a run is killed before publishing it) is the only one recomputed, to the same bytes
        var plan = _h.Plan(Yaml());
        var dir = plan.Cache.DirectoryOf(plan.Get("Sanity:pattern_vanilla_grad").Units[0].Key);
        var before = await PgIg.Pipeline.ParquetFiles.ReadAsync<PgIg.Stages.SanityRow>(Path.Combine(dir, "similarity.parquet"));
        Directory.Delete(dir, recursive: true);
        Assert.Equal(["sanity:pattern_vanilla_grad/shard-0000"], await RunSanityAsync(Yaml()));
        // the same rows and values; SSIM only to 1e-6: after the rest of the suite has run in this process (tests that
        // set torch's thread count), a recomputed map was seen to differ in its last bits for 2 of 10 images, which
        // moves SSIM in the 8th digit (Spearman's ranks stayed equal); a standalone run is byte-identical.
        var after = await PgIg.Pipeline.ParquetFiles.ReadAsync<PgIg.Stages.SanityRow>(Path.Combine(dir, "similarity.parquet"));
        Assert.Equal(before.Select(r => (r.ImageId, r.TargetClass, r.Level, r.Layer, r.Patterns)),
            after.Select(r => (r.ImageId, r.TargetClass, r.Level, r.Layer, r.Patterns)));
        Assert.All(before.Zip(after), t =>
        {
            Assert.Equal(t.First.SpearmanAbs, t.Second.SpearmanAbs, 1e-6);   // one swap of neighbouring ranks moves ρ by ~1e-8 here
            Assert.Equal(t.First.Spearman, t.Second.Spearman, 1e-6);
            Assert.Equal(t.First.Ssim, t.Second.Ssim, 1e-6);
        });

        // another seed moves only the sanity units
        var reseeded = await RunSanityAsync(Yaml("sanity: {images: 10, layers: 2, seed: 3}"));
        Assert.Equal(5, reseeded.Count);
        Assert.All(reseeded, s => Assert.StartsWith("sanity:", s));

        await _h.RunAsync(Yaml(), "Plots");
        var plots = plan.Cache.DirectoryOf(_h.Plan(Yaml()).PlotsKey!);
        var csv = File.ReadAllLines(Path.Combine(plots, "sanity.csv"));
        Assert.Equal("method,patterns,level,layer,metric,mean,ci_low,ci_high,n", csv[0]);
        // 3 measures × (2 levels + the random-map reference) per variant: vanilla 9, pattern (original, recomputed) 15, random 9
        Assert.Equal(1 + 9 + 15 + 9, csv.Length);
        Assert.Contains("pattern_vanilla_grad,recomputed,2,dense1,ssim,", string.Join("\n", csv));
        // the random map ignores the model: 1 at every level
        Assert.All(csv.Where(l => l.StartsWith("random,none,1", StringComparison.Ordinal)), l => Assert.Contains(",1.000000,1.000000,1.000000,10", l));
        Assert.Equal(1 + 3 * 3, File.ReadAllLines(Path.Combine(plots, "sanity_class.csv")).Length);
        foreach (var f in new[] { "sanity_maps.png", "sanity_spearman_abs.svg", "sanity_ssim.png" }) Assert.True(File.Exists(Path.Combine(plots, f)), f);
        Assert.Contains("<h2>Sanity checks</h2>", File.ReadAllText(Path.Combine(plots, "report.html")));
    }
}
