using PgIg.Methods;

namespace PgIg.Config;

public enum Track { FashionMnist, ImageFolder, ImageNet }

public sealed record TrainConfig(int Epochs, int BatchSize, double LearningRate, int TrainSize, long Seed, double MinTestAccuracy);

public sealed record DataConfig(string? Path, IReadOnlyList<string> Mirrors, bool Download, string? ImageNetKey);

/// <param name="Custom">The input and layer list of <c>architecture: custom</c>; null otherwise.</param>
public sealed record ModelConfig(string Architecture, string? Weights, string? WeightsSha256, IReadOnlyList<string> WeightsMirrors, TrainConfig Train, CustomModelConfig? Custom = null)
{
    public const string CustomArchitecture = "custom";
}

public sealed record PatternsConfig(string Source, string? Path, string? Sha256, IReadOnlyList<string> Mirrors, int TrainSize, int BatchSize);

/// <param name="Engine">incremental: each step recomputes only what the newly replaced patch can change (exact);
/// full: a whole forward per step, as the original does.</param>
public sealed record DegradeConfig(int PatchSize, int NPatches, IReadOnlyList<string> Orders, string Engine = DegradeConfig.Incremental)
{
    public const string Incremental = "incremental", Full = "full";
    /// <summary>Replacements: the patch's own per-channel mean (the original's), or ROAD's noisy linear imputation.</summary>
    public const string Mean = "mean", Road = "road";
    /// <summary>ROAD's default noise: standard deviation 0.01 of a [0, 1] pixel (Rong et al. 2022's reference implementation).</summary>
    public const double DefaultRoadNoise = 0.01;

    /// <summary>The replacements to run, each its own family of Degrade units and results (mean: the original's names).</summary>
    public IReadOnlyList<string> Replacements { get; init; } = [Mean];
    /// <summary>ROAD's noise standard deviation, in units of a [0, 1] pixel (converted per channel by the input's normalisation).</summary>
    public double RoadNoise { get; init; } = DefaultRoadNoise;

    /// <summary>The suffix of a replacement's result files and unit slots: none for mean, <c>_road</c> for road.</summary>
    public static string Suffix(string replacement) => replacement == Mean ? "" : "_" + replacement;
}

/// <param name="YFromZero">Degradation plots start their y axis at 0 (true) or fit it to the curves (false, the default).</param>
public sealed record PlotsConfig(string? Title, int GridImages, bool YFromZero = false);

/// <summary>A validated pipeline.yaml. Everything a stage depends on comes from here.</summary>
public sealed record PipelineConfig
{
    public required string SourceFile { get; init; }
    public required string Name { get; init; }
    public required Track Track { get; init; }
    public required Protocol Protocol { get; init; }
    public required Quirks Quirks { get; init; }
    public required long Seed { get; init; }
    public required string Device { get; init; }
    public required int Threads { get; init; }
    public required long MemoryBudgetBytes { get; init; }
    public required int ValSize { get; init; }
    public required int BatchSize { get; init; }
    public required int ShardSize { get; init; }
    public required string CacheDir { get; init; }
    public required string ResultsDir { get; init; }
    public required DataConfig Data { get; init; }
    public required ModelConfig Model { get; init; }
    public required PatternsConfig Patterns { get; init; }
    public required DegradeConfig Degrade { get; init; }
    public required PlotsConfig Plots { get; init; }
    public required IReadOnlyList<ResolvedMethod> Methods { get; init; }
    /// <summary>The Sanity stage's settings; disabled unless the config has a <c>sanity</c> section.</summary>
    public SanityConfig Sanity { get; init; } = SanityConfig.Disabled;

    public static string TrackName(Track t) => t switch
    {
        Track.FashionMnist => "fashion-mnist",
        Track.ImageFolder => "image-folder",
        _ => "imagenet",
    };
}
