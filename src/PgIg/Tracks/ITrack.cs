using PgIg.Models;
using PgIg.Patterns;
using PgIg.Pipeline;
using static TorchSharp.torch;

namespace PgIg.Tracks;

/// <summary>An image in the evaluation set: stable id (the order-defining index) and label.</summary>
public sealed record ValImage(long Id, int Label);

/// <summary>
/// What differs between the Fashion-MNIST, ImageNet and image-folder tracks: where data, model and
/// patterns come from and how images are preprocessed. Stage keys and shards are built by the
/// pipeline from what a track declares here.
/// </summary>
public interface ITrack
{
    /// <summary>Config slice and input-file hashes of the Data stage.</summary>
    StageKey DataKey { get; }
    Task ComputeDataAsync(ArtifactWriter w, StageContext ctx);

    /// <summary>Fetch stage units (downloads of weights and patterns); empty where nothing is fetched.</summary>
    IReadOnlyList<StageKey> FetchKeys { get; }
    Task ComputeFetchAsync(StageKey key, ArtifactWriter w, StageContext ctx);

    /// <summary>Train stage key, or null for tracks whose weights are fetched.</summary>
    StageKey? TrainKey { get; }
    Task ComputeTrainAsync(ArtifactWriter w, StageContext ctx);

    StageKey PatternsKey { get; }
    Task ComputePatternsAsync(ArtifactWriter w, StageContext ctx);

    /// <summary>The key whose artifact defines the model weights (Train or a Fetch unit).</summary>
    StageKey ModelKey { get; }
    SequentialNet LoadModel(ArtifactCache cache);
    PatternSet LoadPatterns(ArtifactCache cache, SequentialNet net);

    /// <summary>Evaluation images in selection order (val_size of them), or null while the Data stage has not run.</summary>
    IReadOnlyList<ValImage>? ValImages(ArtifactCache cache);
    /// <summary>Config slice of preprocessing (resize, normalisation), part of every preprocess shard key.</summary>
    object PreprocessConfig { get; }
    Task<List<ImageRow>> PreprocessAsync(IReadOnlyList<ValImage> images, ArtifactCache cache, StageContext ctx);
    /// <summary>Files a preprocess shard reads (name → SHA-256), part of its key; null where the Data key already covers them.</summary>
    IReadOnlyDictionary<string, string>? PreprocessFiles(IReadOnlyList<ValImage> images, ArtifactCache cache) => null;
    /// <summary>Stored pixels → model input (normalisation happens on load).</summary>
    Tensor ToInput(IReadOnlyList<ImageRow> rows);
    string DatasetLabel { get; }
    string ClassName(int classIndex);
    /// <summary>How to show one model input (C·H·W, normalised) in a figure.</summary>
    PgIg.Plotting.GridImage DisplayImage(string label, float[] input);
}
