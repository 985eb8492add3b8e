using PgIg.Config;
using PgIg.Data.FashionMnist;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tracks;

namespace PgIg.Tests.Pipeline;

/// <summary>Runs the Fashion-MNIST pipeline in-process on tiny settings, in a temporary cache.</summary>
public sealed class PipelineHarness : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("pgig-pipe-").FullName;
    public string CacheDir => Path.Combine(Dir, "cache");
    public List<string> Messages { get; } = new();

    static readonly Lazy<string> TrainedTemplate = new(() =>
    {
        // Data, Train and Patterns are the same for every test config: compute them once and copy the cache
        var h = new PipelineHarness(fromTemplate: false);
        h.RunAsync(h.Yaml("  - pattern_vanilla_grad"), "Patterns").GetAwaiter().GetResult();
        return h.CacheDir;
    });

    public PipelineHarness() : this(fromTemplate: true) { }

    PipelineHarness(bool fromTemplate)
    {
        if (!fromTemplate) return;
        CopyDirectory(TrainedTemplate.Value, CacheDir);
        File.Delete(Path.Combine(CacheDir, "runlog.jsonl"));
    }

    static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(dir.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var dest = file.Replace(from, to);
            File.Copy(file, dest);
            File.SetLastWriteTimeUtc(dest, File.GetLastWriteTimeUtc(file));
        }
    }

    public static void RequireFashionData()
    {
        if (FashionMnistSource.Files.Any(f => FashionMnistSource.Find(FashionMnistSource.DebianDir, f) is null))
            throw new InvalidOperationException($"these tests need Fashion-MNIST in {FashionMnistSource.DebianDir}: apt-get install dataset-fashion-mnist (as .ci/run does)");
    }

    /// <summary>A small config; <paramref name="methods"/> is the YAML list body and <paramref name="extra"/> extra top-level lines.</summary>
    public string Yaml(string methods, int valSize = 20, string extra = "") => $"""
        name: test
        track: fashion-mnist
        protocol: faithful
        val_size: {valSize}
        batch_size: 10
        shard_size: 10
        cache_dir: {CacheDir}
        results_dir: {Path.Combine(Dir, "results")}
        model:
          train: {"{"}epochs: 1, batch_size: 64, learning_rate: 0.002, train_size: 2000, seed: 0{"}"}
        patterns: {"{"}train_size: 1000, batch_size: 500{"}"}
        degrade: {"{"}patch_size: 4, n_patches: 12{"}"}
        plots: {"{"}grid_images: 2{"}"}
        {extra}
        methods:
        {methods}
        """;

    public PipelinePlan Plan(string yaml, ConfigOverrides? overrides = null)
    {
        RequireFashionData();
        var path = Path.Combine(Dir, "config.yaml");
        File.WriteAllText(path, yaml);
        var cfg = ConfigLoader.Load(path, overrides);
        var cache = new ArtifactCache(cfg.CacheDir);
        var ctx = new StageContext(cfg, cache, m => { lock (Messages) Messages.Add(m); }, new HttpClient());
        return new PipelinePlan(cfg, TrackFactory.Create(cfg), ctx);
    }

    /// <summary>Runs a stage (Data first when the evaluation set is not known yet) and returns the log entries it added.</summary>
    public async Task<List<(string Slot, string Action)>> RunAsync(string yaml, string stage = "Plots", ConfigOverrides? overrides = null)
    {
        var log = new RunLog(Path.Combine(CacheDir, "runlog.jsonl"));
        int before = log.Read().Count();
        var plan = Plan(yaml, overrides);
        if (!plan.Get(stage).Known) { await plan.RunAsync("Data"); plan = Plan(yaml, overrides); }
        await plan.RunAsync(stage);
        return log.Read().Skip(before).ToList();
    }

    public static List<string> Computed(IEnumerable<(string Slot, string Action)> entries) =>
        entries.Where(e => e.Action == "computed").Select(e => e.Slot).Distinct().Order(StringComparer.Ordinal).ToList();

    public void Dispose()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}
