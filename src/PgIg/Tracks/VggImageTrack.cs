using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Serialization;
using PgIg.Config;
using PgIg.Data;
using PgIg.Data.Download;
using PgIg.Data.ImageNet;
using PgIg.Data.Images;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Pipeline;
using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Tracks;

/// <summary>One listed image file of the Data stage (images.parquet).</summary>
public sealed class ImageFileRow
{
    public long ImageId { get; set; }
    public string Path { get; set; } = "";
    public string RelativePath { get; set; } = "";
    public string ClassName { get; set; } = "";
    public int Label { get; set; }
    public long Bytes { get; set; }
    public long ModifiedUtcTicks { get; set; }
}

/// <summary>Class index → name (a WNID or a folder name) of the Data stage (classes.parquet).</summary>
public sealed class ClassRow
{
    public int Index { get; set; }
    public string Name { get; set; } = "";
}

/// <summary>
/// What the ImageNet and image-folder tracks share: image lists from a folder, and a model with its input. Either the
/// original's Caffe VGG16 with patterns from npz files (fetched) and its PatternPreprocess((225, 225)) (spec §2.4),
/// or a custom model (<c>model.architecture: custom</c>: a local state_dict, <c>model.input</c>, estimated patterns).
/// Loaded images are stored as resized uint8 R, G, B planes (C×H×W); <see cref="ToInput"/> turns them into the model's
/// input (<see cref="ImageInput"/>).
/// </summary>
public abstract class VggImageTrack : ITrack
{
    public const int ImageSize = VggPreprocess.DefaultSize;

    protected PipelineConfig C { get; }
    readonly ImageInput _input;
    protected FileHashMemo Memo { get; }
    List<ImageFileRow>? _listing;
    Dictionary<long, ImageFileRow>? _byId;
    List<string>? _classes;
    long? _modelClasses;

    protected VggImageTrack(PipelineConfig c)
    {
        C = c;
        if (c.Model.Architecture != "vgg16" && c.Model.Custom is null)
            throw new ConfigException($"{c.SourceFile}: track {PipelineConfig.TrackName(c.Track)} evaluates the original's VGG16 or your own model; set model.architecture: vgg16 or custom (got {c.Model.Architecture})");
        Memo = FileHashMemo.For(c.CacheDir);
        if (c.Model.Custom is { } custom)
        {
            _input = new ConfiguredInput(custom.Input);
            Model = new ImportedModel(c.Model.Weights!, c.Model.WeightsSha256, custom);
        }
        else
        {
            _input = new CaffeVggInput();
            var weights = new NpzSource("weights", "imagenet_224_vgg_16.npz", c.Model.Weights,
                c.Model.WeightsMirrors.Count > 0 ? c.Model.WeightsMirrors : NpzSource.DefaultWeightMirrors, c.Model.WeightsSha256,
                "model.weights", "model.weights_sha256", "model.weights_mirrors", Vgg16Npz.ReadWeights);
            Model = new FetchedModel(weights, BuildVgg16);
        }
        Patterns = c.Patterns.Source == "npz"
            ? new PatternFile(new NpzSource("patterns", "imagenet_224_vgg_16.patterns.A_only.npz", c.Patterns.Path,
                c.Patterns.Mirrors.Count > 0 ? c.Patterns.Mirrors : NpzSource.DefaultPatternMirrors, c.Patterns.Sha256,
                "patterns.path", "patterns.sha256", "patterns.mirrors", Vgg16Npz.ReadPatterns))
            : new EstimatedPatterns("patterns-estimate-v2", new
            {
                source = "compute", estimator = "a_plus", train_size = c.Patterns.TrainSize, batch_size = c.Patterns.BatchSize, seed = c.Seed,
                preprocess = PreprocessConfig,
            }, PatternSample);
    }

    public ModelSource Model { get; }
    public PatternSource Patterns { get; }

    public object PreprocessConfig => _input.PreprocessConfig;

    /// <summary>VGG16 from the npz weights' shapes (any widths and class count).</summary>
    static SequentialNet BuildVgg16(IReadOnlyList<PgIg.Stages.StoredTensor> tensors)
    {
        var (weights, biases) = PgIg.Stages.StoredTensor.SplitModel(tensors);
        var spec = Architectures.Vgg16FromWeightShapes(weights.Select(t => t.Shape).ToList(), ImageSize);
        return Architectures.Build(spec, weights.Select(t => t.Value).ToList(), biases.Select(t => t.Value).ToList());
    }

    /// <summary>A seeded stratified sample of the listed images (patterns.source: compute).</summary>
    PatternSample PatternSample(string dataDir)
    {
        var listing = Listing(dataDir);
        int n = Math.Min(C.Patterns.TrainSize, listing.Count);
        var order = StratifiedSubset.Permutation(listing.Select(r => r.Label).ToList(), (ulong)Seeds.Derive(C.Seed, "patterns-subset"))[..n];
        return new PatternSample(n, async (start, count) =>
            ToInput(await DecodeAsync(order.Skip(start).Take(count).Select(i => listing[i]).Select(r => (r.ImageId, r.Label, r)).ToList())));
    }

    // ---- data ----

    /// <summary>A folder's images as Data rows: ids, labels (class rank) and the size+mtime fingerprint.</summary>
    protected sealed record ListingData(string Root, string Layout, IReadOnlyList<string> Classes, IReadOnlyList<ImageFileRow> Images)
    {
        /// <summary>SHA-256 over (relative path, class, size, mtime) of every image, so added, removed or touched files change the key.</summary>
        public string Fingerprint()
        {
            var sb = new StringBuilder();
            foreach (var r in Images)
                sb.Append(r.ImageId).Append('\t').Append(r.RelativePath).Append('\t').Append(r.Label).Append('\t').Append(r.Bytes).Append('\t').Append(r.ModifiedUtcTicks).Append('\n');
            sb.Append(string.Join("\t", Classes));
            return Hashing.Sha256Hex(sb.ToString());
        }
    }

    /// <param name="valNumberIds">Use the number in ILSVRC2012_val_NNNNNNNN as the id when every file has one (stable across layouts).</param>
    protected static ListingData List(ImageSourceInfo info, bool valNumberIds)
    {
        var numbers = info.Images.Select(i => ImageNetSource.ValFileNumber(i.FileName)).ToList();
        bool useNumbers = valNumberIds && numbers.All(n => n is not null) && numbers.Distinct().Count() == numbers.Count;
        var rows = new List<ImageFileRow>(info.Images.Count);
        for (int i = 0; i < info.Images.Count; i++)
        {
            var img = info.Images[i];
            var fi = new FileInfo(img.Path);
            rows.Add(new ImageFileRow
            {
                ImageId = useNumbers ? numbers[i]!.Value : i, Path = fi.FullName, RelativePath = Path.GetRelativePath(info.ImageRoot, fi.FullName).Replace('\\', '/'),
                ClassName = img.Wnid, Label = img.ClassIndex, Bytes = fi.Length, ModifiedUtcTicks = fi.LastWriteTimeUtc.Ticks,
            });
        }
        return new ListingData(info.ImageRoot, info.Layout.ToString(), info.Classes, rows);
    }

    /// <summary>What the Data stage stores of a folder: the image list (paths, labels, size+mtime) and the class names.</summary>
    protected static DataSnapshot Snapshot(ListingData d)
    {
        if (d.Images.Count == 0) throw new DataSourceException($"{d.Root}: no images listed");
        var snapshot = new DataSnapshot()
            .Table("images.parquet", d.Images.ToList())
            .Table("classes.parquet", d.Classes.Select((n, i) => new ClassRow { Index = i, Name = n }).ToList());
        snapshot.Metrics["root"] = d.Root;
        snapshot.Metrics["layout"] = d.Layout;
        snapshot.Metrics["images"] = d.Images.Count;
        snapshot.Metrics["classes"] = d.Classes.Count;
        snapshot.Notes.Add($"  {d.Images.Count} images in {d.Classes.Count} classes under {d.Root} ({d.Layout} layout)");
        return snapshot;
    }

    public abstract string DataCodeVersion { get; }
    public abstract object DataConfig { get; }
    public abstract Task<DataSnapshot> LocateAsync(StageContext ctx);

    List<ImageFileRow> Listing(string dir)
    {
        if (_listing is not null) return _listing;
        _listing = ParquetFiles.ReadAsync<ImageFileRow>(Path.Combine(dir, "images.parquet")).GetAwaiter().GetResult().ToList();
        _classes = ParquetFiles.ReadAsync<ClassRow>(Path.Combine(dir, "classes.parquet")).GetAwaiter().GetResult().OrderBy(r => r.Index).Select(r => r.Name).ToList();
        _byId = _listing.ToDictionary(r => r.ImageId);
        return _listing;
    }

    ImageFileRow Row(string dataDir, long id)
    {
        Listing(dataDir);
        return _byId!.TryGetValue(id, out var r) ? r : throw new InvalidDataException($"image id {id} is not in the Data stage's listing; rerun the Data stage");
    }

    public IReadOnlyList<ValImage> ValImages(string dataDir)
    {
        var listing = Listing(dataDir);
        if (C.ValSize > listing.Count)
            throw new ConfigException($"{C.SourceFile}: val_size {C.ValSize} exceeds the {listing.Count} images of the dataset; lower val_size (or --val-size)");
        var order = StratifiedSubset.Select(listing.Select(r => r.Label).ToList(), C.ValSize, (ulong)C.Seed);
        var images = order.Select(i => new ValImage(listing[i].ImageId, listing[i].Label)).ToList();
        Memo.Sha256Many(order.Select(i => listing[i].Path)); // hash all used files at once (parallel, one memo write)
        return images;
    }

    public IReadOnlyDictionary<long, string> Catalog(string dataDir) => Listing(dataDir).ToDictionary(r => r.ImageId, r => r.RelativePath);

    /// <summary>Content hashes of the shard's image files: editing a used image recomputes the shards that read it.</summary>
    public IReadOnlyDictionary<string, string>? PreprocessFiles(IReadOnlyList<ValImage> images, string dataDir)
    {
        var rows = images.Select(v => Row(dataDir, v.Id)).ToList();
        var hashes = Memo.Sha256Many(rows.Select(r => r.Path));
        return rows.ToDictionary(r => r.RelativePath, r => hashes[r.Path]);
    }

    // ---- images ----

    public Task<List<ImageRow>> LoadImagesAsync(IReadOnlyList<ValImage> images, string dataDir) =>
        DecodeAsync(images.Select(v => (v.Id, v.Label, Row(dataDir, v.Id))).ToList());

    /// <summary>Decode (PIL convert('RGB')) and PIL-bilinear resize to the model's input size, in parallel; stored as R, G, B planes.</summary>
    Task<List<ImageRow>> DecodeAsync(IReadOnlyList<(long Id, int Label, ImageFileRow File)> items) => Task.Run(() =>
    {
        var rows = new ImageRow[items.Count];
        int height = _input.Height, width = _input.Width, plane = height * width;
        ParallelFor(items.Count, i =>
        {
            var (id, label, file) = items[i];
            var img = PilResize.Bilinear(ImageDecoder.DecodeRgb(file.Path), width, height);
            var planes = new byte[3 * plane];
            for (int p = 0; p < plane; p++)
            {
                planes[p] = img.Rgb[3 * p];
                planes[plane + p] = img.Rgb[3 * p + 1];
                planes[2 * plane + p] = img.Rgb[3 * p + 2];
            }
            rows[i] = new ImageRow { ImageId = id, Label = label, File = file.RelativePath, Channels = 3, Height = height, Width = width, Pixels = planes };
        });
        return rows.ToList();
    });

    public Tensor ToInput(IReadOnlyList<ImageRow> rows) => _input.ToInput(rows);

    /// <summary>Probe: a fixed 23×19 image resized to 16×12, and fixed stored planes as model input.</summary>
    public void ProbePreprocess(NumericDigest d)
    {
        static byte[] Pixels(string name, int n) => ProbeInput.Uniform(name, n).Select(v => (byte)((v + 1) * 127.99)).ToArray();
        d.AddExact("resized", PilResize.Bilinear(new RgbImage(23, 19, Pixels("photo", 23 * 19 * 3)), 16, 12).Rgb.Select(b => (long)b));
        d.Add("input", ToInput([new ImageRow { Pixels = Pixels("planes", 3 * _input.Height * _input.Width) }]));
    }

    /// <summary>Parallel.For that rethrows the first failure itself (e.g. "cannot decode X"), not an AggregateException.</summary>
    internal static void ParallelFor(int count, Action<int> body)
    {
        try { Parallel.For(0, count, body); }
        catch (AggregateException e) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw(); }
    }

    public abstract string DatasetLabel { get; }

    /// <summary>The dataset's class name when its classes are the model's (e.g. the 1000 WNIDs), else the index.</summary>
    public string ClassName(int classIndex)
    {
        if (_classes is not null && _classes.Count == ModelClasses() && classIndex >= 0 && classIndex < _classes.Count) return _classes[classIndex];
        return classIndex.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The weights' class count, from the manifest the Fetch stage wrote for them (-1 before it ran).</summary>
    long ModelClasses()
    {
        if (_modelClasses is { } n) return n;
        var key = PgIg.Stages.FetchStage.KeyForModel(Model, Memo, Fingerprints.For(C.CacheDir));
        var m = Manifest.TryRead(new ArtifactCache(C.CacheDir).DirectoryOf(key));
        return m is not null && m.Metrics.TryGetValue("classes", out var v) && v is not null ? (_modelClasses = v.GetValue<long>()).Value : -1;
    }

    public PgIg.Plotting.GridImage DisplayImage(string label, float[] input) => _input.Display(label, input);
}
