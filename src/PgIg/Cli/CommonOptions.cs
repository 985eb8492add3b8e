using System.CommandLine;
using PgIg.Config;

namespace PgIg.Cli;

/// <summary>Options shared by the pipeline commands; the Cake build passes its own options through as these.</summary>
public sealed class CommonOptions
{
    public Option<string> Config { get; } = new("--config") { Description = "pipeline config (YAML)", DefaultValueFactory = _ => "pipeline.yaml" };
    public Option<int?> ValSize { get; } = WholeNumbers.Optional("--val-size", "number of evaluation images (overrides val_size)");
    public Option<string?> Methods { get; } = new("--methods") { Description = "comma-separated subset of the configured method names" };
    public Option<string?> CacheDir { get; } = new("--cache-dir") { Description = "artifact cache directory (overrides cache_dir)" };
    public Option<string?> ResultsDir { get; } = new("--results-dir") { Description = "results directory (overrides results_dir)" };
    public Option<string?> ImageNetKey { get; } = new("--imagenet-key") { Description = "ImageNet download key (or PGIG_IMAGENET_KEY)" };

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { Config, ValSize, Methods, CacheDir, ResultsDir, ImageNetKey }) c.Options.Add(o);
    }

    public PipelineConfig Load(ParseResult r)
    {
        var methods = r.GetValue(Methods)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (methods is { Length: 0 })
            throw new ConfigException("--methods is empty; give a comma-separated list of configured method names, or leave the option out for all of them");
        var key = r.GetValue(ImageNetKey) ?? Environment.GetEnvironmentVariable("PGIG_IMAGENET_KEY");
        return ConfigLoader.Load(r.GetValue(Config)!, new ConfigOverrides(r.GetValue(ValSize), methods, r.GetValue(CacheDir), r.GetValue(ResultsDir), string.IsNullOrEmpty(key) ? null : key));
    }
}
