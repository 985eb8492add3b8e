using System.Text.Json.Nodes;
using PgIg.Config;
using PgIg.Data;
using PgIg.Data.FashionMnist;
using PgIg.Formats;
using PgIg.Models;
using PgIg.Pipeline;
using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Tracks;

/// <summary>
/// Fashion-MNIST on a CPU: images from IDX files, a small VGG-style CNN that the Train stage trains, and
/// PatternNet a₊ patterns that the Patterns stage estimates on a seeded subset of the training split.
/// The evaluation set is a stratified subset of the test split.
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
        Model = new TrainedModel(_c.Model.Architecture, new[] { Mean, Std }, async dir => (await Split(dir, "train"), await Split(dir, "test")));
        // v2: PatternEstimator sums per unit (v1 artifacts were normalised by a uint8 grand total)
        Patterns = new EstimatedPatterns("patterns-v3", new { estimator = "a_plus", train_size = _c.Patterns.TrainSize, seed = _c.Seed }, PatternSample);
    }

    public ModelSource Model { get; }
    public PatternSource Patterns { get; }

    public string DataCodeVersion => "data-fashion-v1";
    public object DataConfig => new { dataset = "fashion-mnist", files = FashionMnistSource.Files.ToDictionary(f => f.Name, f => f.ContentSha256) };
    public object PreprocessConfig => new { dataset = "fashion-mnist", stored = "uint8 1x28x28", normalise = new[] { Mean, Std } };
    public string DatasetLabel => "Fashion-MNIST";

    public async Task<DataSnapshot> LocateAsync(StageContext ctx)
    {
        var files = await FashionMnistSource.LocateAsync(_c.Data.Path, _c.Data.Download, _c.Data.Mirrors, ctx.DownloadDir, ctx.Http, ctx.Log);
        var snapshot = new DataSnapshot();
        foreach (var (name, path) in files) snapshot.Notes.Add($"  {name}: {path}");
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
            snapshot.Table(split == "t10k" ? "test.parquet" : "train.parquet", imageRows);
        }
        snapshot.Table("labels.parquet", labels);
        snapshot.Metrics["sources"] = new JsonObject(files.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        return snapshot;
    }

    static async Task<List<ImageRow>> Split(string dataDir, string split) =>
        (await ParquetFiles.ReadAsync<ImageRow>(Path.Combine(dataDir, split + ".parquet"))).ToList();

    public Tensor ToInput(IReadOnlyList<ImageRow> rows)
    {
        var buf = new float[rows.Count * 784];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < 784; j++) buf[i * 784 + j] = (rows[i].Pixels[j] / 255f - Mean) / Std;
        return torch.tensor(buf, new long[] { rows.Count, 1, 28, 28 });
    }

    /// <summary>Images are stored as read; the probe covers their normalisation.</summary>
    public void ProbePreprocess(NumericDigest d)
    {
        var rows = Enumerable.Range(0, 2).Select(i => new ImageRow { Pixels = ProbeInput.Uniform($"pixels{i}", 784).Select(v => (byte)((v + 1) * 127.99)).ToArray() }).ToList();
        d.Add("input", ToInput(rows));
    }

    /// <summary>A seeded subset of the training images.</summary>
    PatternSample PatternSample(string dataDir)
    {
        var train = Split(dataDir, "train").GetAwaiter().GetResult();
        using var gen = Seeds.Generator(_c.Seed, "patterns-subset");
        var perm = torch.randperm(train.Count, generator: gen).data<long>().Take(_c.Patterns.TrainSize).ToArray();
        return new PatternSample(perm.Length, (start, count) => Task.FromResult(ToInput(perm.Skip(start).Take(count).Select(i => train[(int)i]).ToList())));
    }

    public IReadOnlyList<ValImage> ValImages(string dataDir)
    {
        var labels = ParquetFiles.ReadAsync<LabelRow>(Path.Combine(dataDir, "labels.parquet")).GetAwaiter().GetResult()
            .Where(r => r.Split == "test").OrderBy(r => r.Index).ToList();
        if (_c.ValSize > labels.Count)
            throw new ConfigException($"{_c.SourceFile}: val_size {_c.ValSize} exceeds the {labels.Count} Fashion-MNIST test images");
        var order = StratifiedSubset.Select(labels.Select(l => l.Label).ToList(), _c.ValSize, (ulong)_c.Seed);
        return order.Select(i => new ValImage(labels[i].Index, labels[i].Label)).ToList();
    }

    /// <summary>The test split, named as its rows are (t10k[i], after the IDX file).</summary>
    public IReadOnlyDictionary<long, string> Catalog(string dataDir) =>
        ParquetFiles.ReadAsync<LabelRow>(Path.Combine(dataDir, "labels.parquet")).GetAwaiter().GetResult()
            .Where(r => r.Split == "test").ToDictionary(r => r.Index, r => $"t10k[{r.Index}]");

    public async Task<List<ImageRow>> LoadImagesAsync(IReadOnlyList<ValImage> images, string dataDir)
    {
        var test = await Split(dataDir, "test");
        return images.Select(v => test[(int)v.Id]).ToList();
    }

    public string ClassName(int c) => c >= 0 && c < ClassNames.Length ? ClassNames[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public PgIg.Plotting.GridImage DisplayImage(string label, float[] input) => PgIg.Plotting.GridImage.FromNormalized(label, input, 1, Mean, Std);
}
