using PgIg.Config;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tracks;
using Xunit;

namespace PgIg.Tests.ImageNetTrack;

public sealed class ConfigAndPatternTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-vggcfg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string RepoFile(string relative) => TestSupport.RepoFiles.Path(relative);

    [Fact]
    public void Root_pipeline_yaml_is_the_papers_configuration()
    {
        var c = ConfigLoader.Load(RepoFile("pipeline.yaml"));
        Assert.Equal(Track.ImageNet, c.Track);
        Assert.Equal(Protocol.Faithful, c.Protocol);
        Assert.Equal("vgg16", c.Model.Architecture);
        Assert.Equal(
            ["vanilla_grad", "pattern_vanilla_grad", "grad_x_input", "integrate_grad", "guided_backprop", "smooth_grad", "smooth_grad2",
             "sg_ig", "var_grad", "exp_grad", "pattern_integrate_grad", "random"],
            c.Methods.Select(m => m.Name));
        Assert.Equal((10000, 100, 100), (c.ValSize, c.BatchSize, c.ShardSize));
        Assert.Equal((9, 100), (c.Degrade.PatchSize, c.Degrade.NPatches));
        Assert.Equal("npz", c.Patterns.Source);
        Assert.Equal(NpzSource.DefaultWeightMirrors, c.Model.WeightsMirrors);
        Assert.Equal(NpzSource.DefaultPatternMirrors, c.Patterns.Mirrors);
    }

    [Theory]
    [InlineData("pipeline.yaml")]
    [InlineData("config/imagenet-local.yaml")]
    [InlineData("config/image-folder-example.yaml")]
    public void Shipped_configs_plan_without_data_or_network(string file)
    {
        // relative data and weight paths resolve against the test binaries' folder, where none exist
        var c = ConfigLoader.Load(RepoFile(file)) with { CacheDir = Path.Combine(_dir, "cache") };
        var track = TrackFactory.Create(c);
        using var http = new HttpClient();
        var plan = new PipelinePlan(c, track, new StageContext(c, new ArtifactCache(c.CacheDir), _ => { }, http));
        Assert.False(plan.Get("Preprocess").Known);
        Assert.Contains(plan.Status(), s => s.Stage == "Data" && s.State == Freshness.Missing);
        Assert.Equal(c.Methods.Any(m => m.UsesPatterns) ? 2 : 1, plan.FetchKeys.Count);
    }

    [Fact]
    public void Image_tracks_refuse_other_architectures()
    {
        var e = Assert.Throws<ConfigException>(() => TrackFactory.Create(ConfigLoader.Parse("""
            track: image-folder
            data: { path: /tmp }
            model: { architecture: fashion-cnn }
            methods: [vanilla_grad]
            """, "x.yaml")));
        Assert.Contains("model.architecture: vgg16", e.Message);
    }

    [Fact]
    public async Task Patterns_source_compute_estimates_normalised_a_plus_patterns_on_the_folder_images()
    {
        NarrowVgg.WriteWeights(Path.Combine(_dir, "w.npz"), seed: 5);
        NarrowVgg.MakeImageFolder(Path.Combine(_dir, "photos"));
        var c = ConfigLoader.Parse($"""
            track: image-folder
            val_size: 2
            batch_size: 2
            cache_dir: {Path.Combine(_dir, "cache")}
            data:
              path: {Path.Combine(_dir, "photos")}
            model:
              weights: {Path.Combine(_dir, "w.npz")}
            patterns:
              source: compute
              train_size: 3
              batch_size: 2
            methods: [pattern_vanilla_grad]
            """, Path.Combine(_dir, "c.yaml"));
        using var http = new HttpClient();
        var ctx = new StageContext(c, new ArtifactCache(c.CacheDir), _ => { }, http);
        var track = TrackFactory.Create(c);
        var plan = new PipelinePlan(c, track, ctx);
        Assert.Single(plan.FetchKeys); // no pattern file to fetch
        await plan.RunAsync("Patterns");
        var m = plan.Cache.ReadManifest(plan.PatternsKey!);
        Assert.Equal(3, m.Metrics["images"]!.GetValue<int>());
        Assert.InRange(m.MetricDouble("mean_abs_wta_minus_1"), 0, 1e-4); // wᵀa = 1 for every unit that has a pattern
        Assert.True(File.Exists(Path.Combine(plan.Cache.DirectoryOf(plan.PatternsKey!), "patterns.npz")));
        using var net = plan.LoadModel();
        using var patterns = plan.LoadPatterns(net);
        Assert.Equal(16, patterns.A.Count);
    }
}
