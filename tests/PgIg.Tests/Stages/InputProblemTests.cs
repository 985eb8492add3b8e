using PgIg.Config;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tests.ImageNetTrack;
using PgIg.Tracks;
using Xunit;

namespace PgIg.Tests.Stages;

/// <summary>Every missing input is reported at once, not one per run (issue 11, item 11).</summary>
public sealed class InputProblemTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-inputs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Missing_weights_and_patterns_are_named_together_and_nothing_is_published()
    {
        NarrowVgg.MakeImageFolder(Path.Combine(_dir, "photos"));
        var c = ConfigLoader.Parse($"""
            track: image-folder
            val_size: 2
            batch_size: 2
            cache_dir: {Path.Combine(_dir, "cache")}
            data: {"{"}path: {Path.Combine(_dir, "photos")}{"}"}
            model: {"{"}weights: {Path.Combine(_dir, "missing-w.npz")}{"}"}
            patterns: {"{"}source: npz, path: {Path.Combine(_dir, "missing-a.npz")}{"}"}
            methods: [vanilla_grad, pattern_vanilla_grad]
            """, Path.Combine(_dir, "c.yaml"));
        using var http = new HttpClient();
        var plan = new PipelinePlan(c, TrackFactory.Create(c), new StageContext(c, new ArtifactCache(c.CacheDir), _ => { }, http));
        var e = await Assert.ThrowsAsync<InputProblemsException>(() => plan.RunAsync("Patterns"));
        Assert.Equal(2, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.StartsWith("model.weights: file not found", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("patterns.path: file not found", StringComparison.Ordinal));
        // the Data stage, which needs neither, ran; nothing that needs the missing files was published
        Assert.Equal(Freshness.Fresh, plan.Status().Single(s => s.Stage == "Data").State);
        Assert.False(Directory.Exists(Path.Combine(c.CacheDir, "patterns")) && Directory.GetDirectories(Path.Combine(c.CacheDir, "patterns")).Any(d => !Path.GetFileName(d).StartsWith('.')));
    }
}
