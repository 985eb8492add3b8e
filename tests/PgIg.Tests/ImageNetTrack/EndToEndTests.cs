using System.Buffers.Binary;
using PgIg.Cli;
using PgIg.Config;
using PgIg.Formats;
using PgIg.Pipeline;
using PgIg.Reporting;
using PgIg.Stages;
using PgIg.Tests.TestSupport;
using PgIg.Tracks;
using TorchSharp;
using Xunit;

namespace PgIg.Tests.ImageNetTrack;

/// <summary>
/// The VGG16 track end to end on a narrow VGG16 (widths / 16, 10 classes) and the fixture photos in an image
/// folder: Fetch (local npz files and a download), Data, Patterns, Preprocess, Attribute, Degrade, Plots, export;
/// then a second run must take every unit from the cache.
/// </summary>
public sealed class EndToEndTests : IDisposable
{
    static readonly string[] Methods = ["vanilla_grad", "pattern_vanilla_grad", "integrate_grad", "pattern_integrate_grad", "random"];
    const int ValSize = 4, NPatches = 8;

    readonly string _dir = Directory.CreateTempSubdirectory("pgig-e2e-").FullName;
    readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    string P(string name) => Path.Combine(_dir, name);

    string Yaml(string weightsBlock, string patternsBlock) => $"""
        name: narrow-e2e
        track: image-folder
        protocol: faithful
        seed: 0
        val_size: {ValSize}
        batch_size: 2
        shard_size: 2
        cache_dir: {P("cache")}
        results_dir: {P("results")}
        data:
          path: {P("photos")}
        model:
          architecture: vgg16
        {weightsBlock}
        patterns:
          source: npz
        {patternsBlock}
        degrade:
          patch_size: 9
          n_patches: {NPatches}
        plots:
          grid_images: 2
        methods:
          - vanilla_grad
          - pattern_vanilla_grad
          - method: integrate_grad        # steps 5: 4 gradients instead of 24 keep the test fast
            params:
              steps: 5
          - method: pattern_integrate_grad
            params:
              steps: 5
          - random
        """;

    (PipelinePlan Plan, List<string> Log) Open(PipelineConfig cfg)
    {
        var log = new List<string>();
        var ctx = new StageContext(cfg, new ArtifactCache(cfg.CacheDir), log.Add, _http);
        return (new PipelinePlan(cfg, TrackFactory.Create(cfg), ctx), log);
    }

    [Fact]
    public async Task Image_folder_track_runs_end_to_end_exports_and_then_comes_entirely_from_the_cache()
    {
        NarrowVgg.WriteWeights(P("w.npz"), seed: 11);
        NarrowVgg.WritePatterns(P("a.npz"), seed: 12);
        NarrowVgg.MakeImageFolder(P("photos"));
        File.WriteAllText(P("e2e.yaml"), Yaml($"  weights: {P("w.npz")}", $"  path: {P("a.npz")}"));
        var cfg = ConfigLoader.Load(P("e2e.yaml"));

        var (plan, _) = Open(cfg);
        Assert.False(plan.Get("Preprocess").Known);
        await plan.RunAsync("Data");
        (plan, var log) = Open(cfg);
        Assert.NotNull(plan.Images);
        Assert.Equal(ValSize, plan.Images!.Count);
        Assert.Equal(3, plan.Images.Take(3).Select(v => v.Label).Distinct().Count()); // stratified over the 3 folders
        await plan.RunAsync("Plots");
        // NarrowVgg's patterns are random, not a₊ of these weights: a warning, not "match"
        Assert.Contains(log, l => l.StartsWith("  warning: the patterns may not belong to this model: mean |wᵀa − 1| = ", StringComparison.Ordinal));
        Assert.DoesNotContain(log, l => l.Contains("patterns match the model", StringComparison.Ordinal));

        var published = Reports.Publish(plan.Cache.DirectoryOf(plan.PlotsKey!), cfg.ResultsDir);
        foreach (var f in new[] { "degradation.csv", "degradation.png", "summary.csv", "saliency.png" })
            Assert.True(new FileInfo(Path.Combine(cfg.ResultsDir, f)).Length > 0, f);
        var csv = File.ReadAllLines(Path.Combine(cfg.ResultsDir, "degradation.csv"));
        Assert.Equal("patches," + string.Join(",", Methods), csv[0]);
        Assert.Equal(NPatches + 1, csv.Length);

        // export through the CLI: the original's file shapes
        string outDir = P("export");
        Assert.Equal(0, await PgIgCli.RunAsync(["export", "--config", P("e2e.yaml"), "--out", outDir]));
        Assert.Equal(0, await PgIgCli.RunAsync(["export", "--config", P("e2e.yaml"), "--no-maps"])); // default: <results_dir>/export
        string small = Path.Combine(cfg.ResultsDir, "export");
        Assert.False(File.Exists(Path.Combine(small, "vanilla_grad_attributions.npy")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(outDir, "results.csv")), File.ReadAllBytes(Path.Combine(small, "results.csv")));
        var files = Directory.GetFiles(outDir);
        var ids = ReadInt64(Path.Combine(outDir, "image_ids.npy"));
        Assert.Equal(plan.Images.Select(v => v.Id), ids);
        Assert.Equal(plan.Images.Select(v => (long)v.Label), ReadInt64(Path.Combine(outDir, "labels.npy")));
        var targets = ReadInt64(Path.Combine(outDir, "targets.npy"));
        Assert.All(targets, t => Assert.InRange(t, 0, NarrowVgg.Classes - 1));
        var maps = new Dictionary<string, float[]>();
        foreach (var m in Methods)
        {
            var a = Read(Path.Combine(outDir, $"{m}_attributions.npy"));
            Assert.Equal([ValSize, 3L, 225, 225], a.Shape);
            Assert.Equal("<f4", a.Dtype);
            maps[m] = a.ToFloat32();
            Assert.Equal([ValSize, (long)NPatches], Read(Path.Combine(outDir, $"{m}_curves.npy")).Shape);
            Assert.Equal([(long)NPatches], Read(Path.Combine(outDir, $"{m}_degradation.npy")).Shape);
        }
        Assert.Contains(maps["vanilla_grad"], v => v != 0);
        Assert.NotEqual(maps["vanilla_grad"], maps["pattern_vanilla_grad"]); // the patterns reach the backward pass
        Assert.NotEqual(maps["integrate_grad"], maps["pattern_integrate_grad"]);

        var results = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        // load_results' order: sorted by "<method>_degradation.npy"
        Assert.Equal("patches,integrate_grad,pattern_integrate_grad,pattern_vanilla_grad,random,vanilla_grad", results[0]);
        Assert.Equal(NPatches + 1, results.Length);

        // curve[0] is the mean max-softmax of the clean images (spec §15 test 5)
        using (var scope = torch.NewDisposeScope())
        {
            using var net = plan.LoadModel();
            var rows = new List<ImageRow>();
            foreach (var u in plan.Get("Preprocess").Units)
                rows.AddRange(await ParquetFiles.ReadAsync<ImageRow>(Path.Combine(plan.Cache.DirectoryOf(u.Key), "images.parquet")));
            var probs = net.Probabilities(plan.Track.ToInput(rows));
            double expected = probs.max(1).values.mean().item<float>();
            Assert.Equal(targets, probs.argmax(1).data<long>().ToArray());
            float first = Read(Path.Combine(outDir, "vanilla_grad_degradation.npy")).ToFloat32()[0];
            Assert.Equal(expected, first, 5);
            Assert.True(expected < 0.99, $"the narrow model should not saturate (mean max p = {expected})");
        }

        // second run: every unit of every stage is cached
        int before = plan.Cache.Log.Read().Count();
        var (rerun, _) = Open(cfg);
        foreach (var stage in rerun.Stages)
        {
            var (computed, _) = await rerun.RunAsync(stage.Name);
            Assert.True(computed == 0, $"{stage.Name} recomputed {computed} unit(s)");
        }
        var actions = rerun.Cache.Log.Read().Skip(before).ToList();
        Assert.NotEmpty(actions);
        Assert.All(actions, a => Assert.Equal("cached", a.Action));
        Assert.All(rerun.Status(), s => Assert.Equal(Freshness.Fresh, s.State));

        // editing a photo changes the listing fingerprint: Data and everything after it go stale
        File.Copy(P("photos/bee/bee.jpg"), P("photos/castle/castle2.jpg"), overwrite: true);
        var (edited, _) = Open(cfg);
        Assert.NotEqual(Freshness.Fresh, edited.Status().Single(s => s.Stage == "Data").State);
        Assert.Contains(files, f => f.EndsWith("export.json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Downloaded_weights_are_keyed_by_mirrors_until_pinned_and_then_by_content()
    {
        NarrowVgg.WriteWeights(P("w.npz"), seed: 11);
        NarrowVgg.MakeImageFolder(P("photos"));
        using var server = new LocalHttpServer();
        server.ServeFile("/w.npz", File.ReadAllBytes(P("w.npz")));
        string mirrors = $"  weights_mirrors: ['{server.Url("/gone.npz")}', '{server.Url("/w.npz")}']";
        var cfg = ConfigLoader.Parse(Yaml(mirrors, ""), P("dl.yaml")) with { Methods = ConfigLoader.Parse(Yaml("", ""), P("x.yaml")).Methods.Where(m => !m.UsesPatterns).ToList() };

        var (plan, log) = Open(cfg);
        Assert.Single(plan.FetchKeys); // no pattern method: the pattern file is not fetched
        await plan.RunAsync("Fetch");
        string sha = Hashing.Sha256OfFile(P("w.npz"));
        Assert.Contains(log, l => l.Contains($"pin it in the config: model.weights_sha256: {sha}", StringComparison.Ordinal));
        var manifest = plan.Cache.ReadManifest(plan.ModelKey);
        Assert.Equal(server.Url("/w.npz"), manifest.Metrics["origin"]!.GetValue<string>());
        Assert.Equal(10, manifest.Metrics["classes"]!.GetValue<long>());

        var (again, _) = Open(cfg);
        Assert.Equal(plan.ModelKey.Hash, again.ModelKey.Hash);
        Assert.Equal((0, 1), await again.RunAsync("Fetch"));
        Assert.Single(server.RequestsTo("/w.npz"));

        // pinned download and a local copy of the same file share one key: it is the content's hash
        var pinned = ConfigLoader.Parse(Yaml(mirrors + $"\n  weights_sha256: {sha}", ""), P("dl.yaml"));
        var local = ConfigLoader.Parse(Yaml($"  weights: {P("w.npz")}", ""), P("dl.yaml"));
        Assert.Equal(Open(pinned).Plan.ModelKey.Hash, Open(local).Plan.ModelKey.Hash);
        Assert.NotEqual(plan.ModelKey.Hash, Open(local).Plan.ModelKey.Hash);
    }

    static NpyArray Read(string path)
    {
        using var fs = File.OpenRead(path);
        return NpyReader.Read(fs, path);
    }

    static long[] ReadInt64(string path)
    {
        var a = Read(path);
        Assert.Equal("<i8", a.Dtype);
        return Enumerable.Range(0, (int)a.ElementCount).Select(i => BinaryPrimitives.ReadInt64LittleEndian(a.Data.AsSpan(8 * i))).ToArray();
    }
}
