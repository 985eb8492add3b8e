using System.Text.Json.Nodes;
using PgIg.Config;
using PgIg.Data;
using PgIg.Data.FashionMnist;
using PgIg.Formats;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Pipeline;
using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Tracks;

/// <summary>
/// Fashion-MNIST end to end on a CPU: data from IDX files, a small VGG-style CNN trained by the
/// pipeline, PatternNet a₊ patterns estimated by the pipeline. The evaluation set is the test split.
/// </summary>
public sealed class FashionMnistTrack : ITrack
{
    // Fashion-MNIST pixel statistics (training set), for (x/255 − mean)/std; 0 is then the mean grey (IG's baseline).
    public const float Mean = 0.2860f, Std = 0.3530f;
    static readonly string[] ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    readonly PipelineConfig _c;

    public FashionMnistTrack(PipelineConfig config)
    {
        _c = config;
        DataKey = new StageKey("data", "data", "data-fashion-v1", new
        {
            dataset = "fashion-mnist",
            files = FashionMnistSource.Files.ToDictionary(f => f.Name, f => f.ContentSha256),
        });
        var t = _c.Model.Train;
        TrainKey = new StageKey("train", "train", "train-v2", new
        {
            architecture = _c.Model.Architecture, epochs = t.Epochs, batch_size = t.BatchSize, learning_rate = t.LearningRate,
            train_size = t.TrainSize, seed = t.Seed, normalise = new[] { Mean, Std },
        }, [("data", DataKey)]);
        // v2: PatternEstimator sums per unit (v1 artifacts were normalised by a uint8 grand total)
        PatternsKey = new StageKey("patterns", "patterns", "patterns-v2", new
        {
            estimator = "a_plus", train_size = _c.Patterns.TrainSize, seed = _c.Seed,
        }, [("model", TrainKey), ("data", DataKey)]);
    }

    public StageKey DataKey { get; }
    public IReadOnlyList<StageKey> FetchKeys => [];
    public StageKey? TrainKey { get; }
    public StageKey ModelKey => TrainKey!;
    public StageKey PatternsKey { get; }
    public object PreprocessConfig => new { dataset = "fashion-mnist", stored = "uint8 1x28x28", normalise = new[] { Mean, Std } };
    public string DatasetLabel => "Fashion-MNIST";

    public Task ComputeFetchAsync(StageKey key, ArtifactWriter w, StageContext ctx) => throw new InvalidOperationException("the Fashion-MNIST track fetches nothing");

    public async Task ComputeDataAsync(ArtifactWriter w, StageContext ctx)
    {
        var files = await FashionMnistSource.LocateAsync(_c.Data.Path, _c.Data.Download, _c.Data.Mirrors, ctx.DownloadDir, ctx.Http, ctx.Log);
        foreach (var (name, path) in files) ctx.Log($"  {name}: {path}");
        var labels = new List<LabelRow>();
        foreach (var split in new[] { "train", "t10k" })
        {
            var (pixels, n, rows, cols) = Idx.ReadImages(files[$"{split}-images-idx3-ubyte"]);
            var lab = Idx.ReadLabels(files[$"{split}-labels-idx1-ubyte"]);
            if (lab.Length != n) throw new InvalidDataException($"{split}: {n} images but {lab.Length} labels");
            var imageRows = new List<ImageRow>(n);
            for (int i = 0; i < n; i++)
            {
                imageRows.Add(new ImageRow
                {
                    ImageId = i, Label = lab[i], File = $"{split}[{i}]", Channels = 1, Height = rows, Width = cols,
                    Pixels = pixels.AsSpan(i * rows * cols, rows * cols).ToArray(),
                });
                labels.Add(new LabelRow { Split = split == "t10k" ? "test" : "train", Index = i, Label = lab[i] });
            }
            await w.WriteParquetAsync(split == "t10k" ? "test.parquet" : "train.parquet", imageRows);
        }
        await w.WriteParquetAsync("labels.parquet", labels);
        w.Metric("sources", new JsonObject(files.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))));
    }

    async Task<List<ImageRow>> Split(ArtifactCache cache, string split) =>
        (await ParquetFiles.ReadAsync<ImageRow>(Path.Combine(cache.DirectoryOf(DataKey), split + ".parquet"))).ToList();

    public Tensor ToInput(IReadOnlyList<ImageRow> rows)
    {
        var buf = new float[rows.Count * 784];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < 784; j++) buf[i * 784 + j] = (rows[i].Pixels[j] / 255f - Mean) / Std;
        return torch.tensor(buf, new long[] { rows.Count, 1, 28, 28 });
    }

    Tensor Labels(IReadOnlyList<ImageRow> rows) => torch.tensor(rows.Select(r => (long)r.Label).ToArray());

    public async Task ComputeTrainAsync(ArtifactWriter w, StageContext ctx)
    {
        var t = _c.Model.Train;
        var train = (await Split(ctx.Cache, "train")).Take(t.TrainSize).ToList();
        var test = await Split(ctx.Cache, "test");
        using var scope = torch.NewDisposeScope();
        var trainX = ToInput(train); var trainY = Labels(train);
        var testX = ToInput(test); var testY = Labels(test);
        int stepsPerEpoch = (train.Count + t.BatchSize - 1) / t.BatchSize;
        ctx.Log($"  training {Architectures.FashionCnn.Name} on {train.Count} images, {t.Epochs} epoch(s)");
        var result = Trainer.Train(Architectures.ByName(_c.Model.Architecture), trainX, trainY, testX, testY, t.Epochs, t.BatchSize, t.LearningRate, t.Seed,
            (epoch, step, loss) => ctx.Progress.Report("train", epoch * stepsPerEpoch + step, t.Epochs * stepsPerEpoch, $"epoch {epoch + 1} loss {loss:0.000}"));
        ctx.Log($"  test accuracy {result.TestAccuracy:P2} (10000 test images)");
        if (result.TestAccuracy < t.MinTestAccuracy)
            throw new InvalidOperationException($"{_c.SourceFile}: trained model reaches {result.TestAccuracy:P2} test accuracy, below model.train.min_test_accuracy {t.MinTestAccuracy:P0}; train longer (model.train.epochs) or on more images (model.train.train_size)");
        await w.WriteParquetAsync("model.parquet", TensorStore.ModelRows(result.Net));
        w.Metric("test_accuracy", result.TestAccuracy);
        w.Metric("epoch_losses", new JsonArray(result.EpochLosses.Select(l => (JsonNode?)l).ToArray()));
        result.Net.Dispose();
    }

    public SequentialNet LoadModel(ArtifactCache cache)
    {
        var rows = ParquetFiles.ReadAsync<TensorRow>(Path.Combine(cache.DirectoryOf(ModelKey), "model.parquet")).GetAwaiter().GetResult();
        return TensorStore.ModelFromRows(Architectures.ByName(_c.Model.Architecture), rows);
    }

    public async Task ComputePatternsAsync(ArtifactWriter w, StageContext ctx)
    {
        using var net = LoadModel(ctx.Cache);
        var train = await Split(ctx.Cache, "train");
        // a seeded subset of the training images
        using var gen = Seeds.Generator(_c.Seed, "patterns-subset");
        var perm = torch.randperm(train.Count, generator: gen).data<long>().Take(_c.Patterns.TrainSize).ToArray();
        using var est = new PatternEstimator(net);
        int bs = _c.Patterns.BatchSize;
        for (int s = 0; s < perm.Length; s += bs)
        {
            using var scope = torch.NewDisposeScope();
            est.Add(ToInput(perm.Skip(s).Take(bs).Select(i => train[(int)i]).ToList()));
            ctx.Progress.Report("patterns", Math.Min(perm.Length, s + bs), perm.Length);
        }
        using var patterns = est.Result();
        await w.WriteParquetAsync("patterns.parquet", patterns.A.Select((a, i) => TensorStore.ToRow(i, $"A_{i}", a)).ToList());
        PatternNpz.Export(patterns, net, w.PathOf("patterns.npz"));
        w.RegisterFile("patterns.npz");
        // wᵀa per unit should be 1 (a sanity figure for the manifest)
        w.Metric("mean_abs_wta_minus_1", PatternNpz.NormalisationError(patterns, net));
    }

    public PatternSet LoadPatterns(ArtifactCache cache, SequentialNet net)
    {
        var rows = ParquetFiles.ReadAsync<TensorRow>(Path.Combine(cache.DirectoryOf(PatternsKey), "patterns.parquet")).GetAwaiter().GetResult();
        return new PatternSet(rows.OrderBy(r => r.Index).Select(TensorStore.FromRow).ToList()).CheckMatches(net);
    }

    public IReadOnlyList<ValImage>? ValImages(ArtifactCache cache)
    {
        if (cache.Check(DataKey, verifyContent: false).Status != CacheStatus.Fresh) return null;
        var labels = ParquetFiles.ReadAsync<LabelRow>(Path.Combine(cache.DirectoryOf(DataKey), "labels.parquet")).GetAwaiter().GetResult()
            .Where(r => r.Split == "test").OrderBy(r => r.Index).ToList();
        if (_c.ValSize > labels.Count)
            throw new ConfigException($"{_c.SourceFile}: val_size {_c.ValSize} exceeds the {labels.Count} Fashion-MNIST test images");
        var order = StratifiedSubset.Select(labels.Select(l => l.Label).ToList(), _c.ValSize, (ulong)_c.Seed);
        return order.Select(i => new ValImage(labels[i].Index, labels[i].Label)).ToList();
    }

    public async Task<List<ImageRow>> PreprocessAsync(IReadOnlyList<ValImage> images, ArtifactCache cache, StageContext ctx)
    {
        var test = await Split(cache, "test");
        return images.Select(v => test[(int)v.Id]).ToList();
    }

    public string ClassName(int c) => c >= 0 && c < ClassNames.Length ? ClassNames[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public PgIg.Plotting.GridImage DisplayImage(string label, float[] input) => PgIg.Plotting.GridImage.FromNormalized(label, input, 1, Mean, Std);
}
