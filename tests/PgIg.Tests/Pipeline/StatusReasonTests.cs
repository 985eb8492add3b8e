using PgIg.Config;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tests.ImageNetTrack;
using PgIg.Tracks;
using Xunit;

namespace PgIg.Tests.Pipeline;

/// <summary>Status always says why a stage is not fresh, and never compares with another track's artifacts (issue 11, item 8).</summary>
public sealed class StatusReasonTests : IDisposable
{
    readonly PipelineHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task New_methods_and_new_shards_say_not_computed_yet()
    {
        await _h.RunAsync(_h.Yaml("  - vanilla_grad"));
        var status = _h.Plan(_h.Yaml("  - vanilla_grad\n  - grad_x_input", valSize: 30)).Status();
        var added = status.Single(s => s.Stage == "Attribute:grad_x_input");
        Assert.Equal((Freshness.Missing, "not computed yet (3 units)"), (added.State, added.Reason));
        var grown = status.Single(s => s.Stage == "Attribute:vanilla_grad");
        Assert.Equal("1 unit not computed yet, e.g. attribute:vanilla_grad/shard-0002", grown.Reason);
    }

    [Fact]
    public async Task Another_tracks_artifacts_do_not_explain_staleness()
    {
        await _h.RunAsync(_h.Yaml("  - vanilla_grad"), "Data");
        NarrowVgg.MakeImageFolder(Path.Combine(_h.Dir, "photos"));
        var c = ConfigLoader.Parse($"""
            track: image-folder
            cache_dir: {_h.CacheDir}
            data: {"{"}path: {Path.Combine(_h.Dir, "photos")}{"}"}
            model: {"{"}weights: {Path.Combine(_h.Dir, "w.npz")}{"}"}
            methods: [vanilla_grad]
            """, Path.Combine(_h.Dir, "vgg.yaml"));
        using var http = new HttpClient();
        var plan = new PipelinePlan(c, TrackFactory.Create(c), new StageContext(c, new ArtifactCache(c.CacheDir), _ => { }, http));
        var data = plan.Status().Single(s => s.Stage == "Data");
        Assert.Equal(Freshness.Missing, data.State);
        Assert.Equal("not computed yet (1 unit)", data.Reason);
    }
}
