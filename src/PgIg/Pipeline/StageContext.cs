using PgIg.Config;

namespace PgIg.Pipeline;

/// <summary>What a stage computation may use: config, cache, logging, HTTP.</summary>
public sealed class StageContext(PipelineConfig config, ArtifactCache cache, Action<string> log, HttpClient http)
{
    public PipelineConfig Config { get; } = config;
    public ArtifactCache Cache { get; } = cache;
    public Action<string> Log { get; } = log;
    public HttpClient Http { get; } = http;
    public IProgressSink Progress { get; set; } = new LineProgress(log);
    /// <summary>Fingerprints of what stage code computes, for the keys (tests inject perturbed ones).</summary>
    public Fingerprints Fingerprints { get; init; } = Fingerprints.For(cache.Root);
    public string DownloadDir => Path.Combine(Cache.Root, "downloads");
    /// <summary>Where attribution and degradation run; artifacts are always written from CPU copies.</summary>
    public TorchSharp.torch.Device Device { get; init; } = TorchSharp.torch.CPU;
}
