using PgIg.Models;
using PgIg.Pipeline;
using static TorchSharp.torch;

namespace PgIg.Tracks;

/// <summary>An image in the evaluation set: stable id (the order-defining index) and label.</summary>
public sealed record ValImage(long Id, int Label);

/// <summary>
/// A track is a set of sources: where the images and labels come from (and how an image becomes a model
/// input), where the model's weights come from (<see cref="Model"/>) and where the patterns come from
/// (<see cref="Patterns"/>). Tracks compute nothing of the experiment: the stages (src/PgIg/Stages) declare
/// the keys and do the work, asking a track only for its data.
/// </summary>
public interface ITrack
{
    // ---- images ----

    /// <summary>Code version and config slice of the Data stage's key: what identifies this track's dataset.</summary>
    string DataCodeVersion { get; }
    object DataConfig { get; }
    /// <summary>Finds (or downloads) the dataset and lists what the Data stage stores.</summary>
    Task<DataSnapshot> LocateAsync(StageContext ctx);
    /// <summary>Evaluation images in selection order (val_size of them), from the Data stage's artifact.</summary>
    IReadOnlyList<ValImage> ValImages(string dataDir);
    /// <summary>Every image the evaluation set is drawn from: id → file name as preprocessed rows carry it (imported maps match by either).</summary>
    IReadOnlyDictionary<long, string> Catalog(string dataDir);
    /// <summary>Config slice of preprocessing (resize, normalisation), part of every preprocess shard key.</summary>
    object PreprocessConfig { get; }
    /// <summary>Files a preprocess shard reads (name → SHA-256), part of its key; null where the Data key already covers them.</summary>
    IReadOnlyDictionary<string, string>? PreprocessFiles(IReadOnlyList<ValImage> images, string dataDir) => null;
    /// <summary>The stored pixels of evaluation images (decoded and resized where the track does so).</summary>
    Task<List<ImageRow>> LoadImagesAsync(IReadOnlyList<ValImage> images, string dataDir);
    /// <summary>Fingerprint probe of this track's preprocessing (resizing, and stored pixels → model input) on fixed pixels.</summary>
    void ProbePreprocess(NumericDigest d);
    /// <summary>Stored pixels → model input (normalisation happens on load).</summary>
    Tensor ToInput(IReadOnlyList<ImageRow> rows);
    string DatasetLabel { get; }
    string ClassName(int classIndex);
    /// <summary>How to show one model input (C·H·W, normalised) in a figure.</summary>
    PgIg.Plotting.GridImage DisplayImage(string label, float[] input);

    // ---- model and patterns ----

    ModelSource Model { get; }
    PatternSource Patterns { get; }
}

/// <summary>Where the model's weights come from.</summary>
public abstract class ModelSource
{
    /// <summary>The network from its stored tensors (model.parquet of the Train or Fetch unit).</summary>
    public abstract SequentialNet Build(IReadOnlyList<PgIg.Stages.StoredTensor> tensors);
}

/// <summary>Weights from one of the original's npz files (the Fetch stage converts it to model.parquet).</summary>
public sealed class FetchedModel(NpzSource file, Func<IReadOnlyList<PgIg.Stages.StoredTensor>, SequentialNet> build) : ModelSource
{
    public NpzSource File { get; } = file;
    public override SequentialNet Build(IReadOnlyList<PgIg.Stages.StoredTensor> tensors) => build(tensors);
}

/// <summary>A network the Train stage trains on the track's training split.</summary>
/// <param name="InputNormalisation">How images are normalised before training (part of the Train key).</param>
public sealed class TrainedModel(string architecture, object inputNormalisation, Func<string, Task<(List<ImageRow> Train, List<ImageRow> Test)>> splits) : ModelSource
{
    public string Architecture { get; } = architecture;
    public object InputNormalisation { get; } = inputNormalisation;
    /// <summary>Training and test images from the Data stage's directory.</summary>
    public Task<(List<ImageRow> Train, List<ImageRow> Test)> SplitsAsync(string dataDir) => splits(dataDir);
    public override SequentialNet Build(IReadOnlyList<PgIg.Stages.StoredTensor> tensors)
    {
        var (weights, biases) = PgIg.Stages.StoredTensor.SplitModel(tensors);
        return Architectures.Build(Architectures.ByName(Architecture), [.. weights.Select(t => t.Value)], [.. biases.Select(t => t.Value)]);
    }
}

/// <summary>Where the patterns come from.</summary>
public abstract class PatternSource;

/// <summary>The original's pattern npz (fetched like the weights, then checked against the model).</summary>
public sealed class PatternFile(NpzSource file) : PatternSource
{
    public NpzSource File { get; } = file;
}

/// <summary>PatternNet a₊ patterns estimated on a seeded sample of the track's images.</summary>
/// <param name="CodeVersion">Version of the estimation as this track runs it (part of the Patterns key).</param>
/// <param name="KeyConfig">What of the config decides the sample (part of the Patterns key).</param>
/// <param name="Sample">The sample from the Data stage's directory: its size and a reader of model inputs [start, start + count).</param>
public sealed class EstimatedPatterns(string codeVersion, object keyConfig, Func<string, PatternSample> sample) : PatternSource
{
    public string CodeVersion { get; } = codeVersion;
    public object KeyConfig { get; } = keyConfig;
    public PatternSample Sample(string dataDir) => sample(dataDir);
}

/// <summary>Images a pattern estimate runs over, read batch by batch.</summary>
public sealed record PatternSample(int Count, Func<int, int, Task<Tensor>> InputsAsync);
