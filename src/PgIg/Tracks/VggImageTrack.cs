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

/// <summary>Per-layer check of npz patterns against the model (Patterns stage, check.parquet).</summary>
public sealed class PatternCheckRow
{
    public int Layer { get; set; }
    public string Key { get; set; } = "";
    public long[] Shape { get; set; } = [];
    public long UnitsWithPattern { get; set; }
    public double MeanAbsWtaMinus1 { get; set; }
}

/// <summary>
/// What the ImageNet and image-folder tracks share: the original's Caffe VGG16 and patterns from npz files (Fetch),
/// image lists from a folder (Data), and the original's PatternPreprocess((225, 225)) (spec §2.4).
/// Preprocess shards store the resized uint8 pixels as R, G, B planes (C×H×W); <see cref="ToInput"/> turns them
/// into B, G, R planes minus (103.939, 116.779, 123.68), 0–255 scale, no /255.
/// </summary>
public abstract class VggImageTrack : ITrack
{
    public const int ImageSize = VggPreprocess.DefaultSize;
    static readonly float[] MeanBgr = VggPreprocess.MeanBgr.Select(m => (float)m).ToArray();

    protected PipelineConfig C { get; }
    protected FileHashMemo Memo { get; }
    readonly NpzSource _weights;
    readonly NpzSource? _patternFile;
    readonly StageKey? _patternFileKey;
    List<ImageFileRow>? _listing;
    Dictionary<long, ImageFileRow>? _byId;
    List<string>? _classes;
    long? _modelClasses;
    ArtifactCache? _cache;

    protected VggImageTrack(PipelineConfig c)
    {
        C = c;
        if (c.Model.Architecture != "vgg16")
            throw new ConfigException($"{c.SourceFile}: track {PipelineConfig.TrackName(c.Track)} evaluates the original's VGG16; set model.architecture: vgg16 (got {c.Model.Architecture})");
        Memo = new FileHashMemo(c.CacheDir);
        _weights = new NpzSource("weights", "imagenet_224_vgg_16.npz", c.Model.Weights,
            c.Model.WeightsMirrors.Count > 0 ? c.Model.WeightsMirrors : NpzSource.DefaultWeightMirrors, c.Model.WeightsSha256,
            "model.weights", "model.weights_sha256", "model.weights_mirrors");
        ModelKey = FetchKey(_weights, "fetch/weights");
        if (c.Patterns.Source == "npz")
        {
            _patternFile = new NpzSource("patterns", "imagenet_224_vgg_16.patterns.A_only.npz", c.Patterns.Path,
                c.Patterns.Mirrors.Count > 0 ? c.Patterns.Mirrors : NpzSource.DefaultPatternMirrors, c.Patterns.Sha256,
                "patterns.path", "patterns.sha256", "patterns.mirrors");
            _patternFileKey = FetchKey(_patternFile, "fetch/patterns");
        }
    }

    // ---- keys ----

    public abstract StageKey DataKey { get; }
    public StageKey ModelKey { get; }
    public StageKey? TrainKey => null;

    /// <summary>Weights always; the pattern file only when it is used (it is as large as the weights).</summary>
    public IReadOnlyList<StageKey> FetchKeys =>
        _patternFileKey is not null && C.Methods.Any(m => m.UsesPatterns) ? [ModelKey, _patternFileKey] : [ModelKey];

    StageKey? _patternsKey;
    public StageKey PatternsKey => _patternsKey ??= _patternFileKey is not null
        ? new StageKey("patterns", "patterns", "patterns-npz-v1", new { source = "npz" }, [("pattern_file", _patternFileKey), ("model", ModelKey)])
        : new StageKey("patterns", "patterns", "patterns-estimate-v1", new
        {
            source = "compute", estimator = "a_plus", train_size = C.Patterns.TrainSize, batch_size = C.Patterns.BatchSize, seed = C.Seed,
            preprocess = PreprocessConfig,
        }, [("model", ModelKey), ("data", DataKey)]);

    /// <summary>
    /// The key covers the file's content: its SHA-256 for a local file or a pinned download (so the two share
    /// artifacts), the mirror list for an unpinned download, whose content is unknown until it is fetched.
    /// </summary>
    StageKey FetchKey(NpzSource src, string slot)
    {
        string? sha = src.PinnedSha256;
        if (src.IsLocal) sha = File.Exists(src.LocalPath) ? Memo.Sha256(src.LocalPath!) : "missing";
        object config = sha is null ? new { role = src.Role, mirrors = src.Mirrors.ToArray() } : new { role = src.Role };
        var files = sha is null ? null : new Dictionary<string, string> { [src.FileName] = sha };
        return new StageKey("fetch", slot, "fetch-npz-v1", config, null, files);
    }

    public object PreprocessConfig => new
    {
        decode = "pil-rgb", resize = new[] { ImageSize, ImageSize }, filter = "pil-bilinear", stored = "uint8 RGB planes 3x225x225",
        input = "BGR minus [103.939, 116.779, 123.68], 0-255",
    };

    // ---- fetch ----

    public async Task ComputeFetchAsync(StageKey key, ArtifactWriter w, StageContext ctx)
    {
        bool weights = key.Hash == ModelKey.Hash;
        var src = weights ? _weights : _patternFile ?? throw new InvalidOperationException("patterns come from estimation, nothing to fetch");
        var downloader = new Downloader(ctx.Http);
        var (file, rows) = await NpzFetch.ResolveAsync(src, ctx.DownloadDir, downloader,
            p => (weights ? Vgg16Npz.ReadWeights(p) : Vgg16Npz.ReadPatterns(p)).ToList(), ctx.Log, ctx.Progress, Memo);
        if (key.Inputs["files"] is SortedDictionary<string, string> planned && planned.TryGetValue(src.FileName, out var plannedSha) && plannedSha != file.Sha256)
            throw new FetchException($"{file.Path} changed while the pipeline was planned (sha256 {plannedSha} then, {file.Sha256} now); run the command again");
        string name = weights ? "model.parquet" : "patterns.parquet";
        await WriteTensorsAsync(w, name, rows);
        w.Metric("origin", file.Origin);
        w.Metric("sha256", file.Sha256);
        w.Metric("bytes", new FileInfo(file.Path).Length);
        var shapes = rows.Where(r => !weights || r.Name.StartsWith("W_", StringComparison.Ordinal)).Select(r => r.Shape).ToList();
        w.Metric("widths", new JsonArray(shapes.Select(s => (JsonNode?)s[0]).ToArray()));
        if (weights)
        {
            w.Metric("classes", shapes[^1][0]);
            w.Metric("parameters", rows.Sum(r => r.Shape.Aggregate(1L, (a, b) => a * b)));
        }
        ctx.Log($"  {src.Role}: {file.Origin} → {name} ({rows.Count} tensors)");
    }

    /// <summary>
    /// One row group per tensor, uncompressed and without dictionary probing: float noise does not compress, and
    /// Snappy plus the dictionary scan over a 400 MB fc6 payload only cost time and memory.
    /// </summary>
    static async Task WriteTensorsAsync(ArtifactWriter w, string name, IReadOnlyList<TensorRow> rows)
    {
        var options = new ParquetOptions { RowGroupSize = 1, CompressionMethod = CompressionMethod.None, DictionaryEncodingThreshold = 0, DictionaryEncodingSampleSize = 1 };
        await using (var fs = File.Create(w.PathOf(name)))
            await ParquetSerializer.SerializeAsync(rows, fs, options);
        w.RegisterFile(name, rows.Count);
    }

    static List<TensorRow> ReadTensors(string dir, string name) =>
        ParquetFiles.ReadAsync<TensorRow>(Path.Combine(dir, name)).GetAwaiter().GetResult().OrderBy(r => r.Index).ToList();

    /// <summary>Tensors from rows, releasing each payload once copied: the full VGG16 would otherwise be held three times.</summary>
    static List<Tensor> ToTensors(IEnumerable<TensorRow> rows)
    {
        var list = new List<Tensor>();
        foreach (var r in rows)
        {
            list.Add(TensorStore.FromRow(r));
            r.Values = [];
        }
        return list;
    }

    public SequentialNet LoadModel(ArtifactCache cache)
    {
        var rows = ReadTensors(cache.DirectoryOf(ModelKey), "model.parquet");
        var weights = rows.Where(r => r.Name.StartsWith("W_", StringComparison.Ordinal)).ToList();
        var biases = rows.Where(r => r.Name.StartsWith("b_", StringComparison.Ordinal)).ToList();
        var spec = Architectures.Vgg16FromWeightShapes(weights.Select(r => r.Shape).ToList(), ImageSize);
        return Architectures.Build(spec, ToTensors(weights), ToTensors(biases));
    }

    long ModelClasses(ArtifactCache cache)
    {
        if (_modelClasses is { } n) return n;
        var m = Manifest.TryRead(cache.DirectoryOf(ModelKey));
        return m is not null && m.Metrics.TryGetValue("classes", out var v) && v is not null ? (_modelClasses = v.GetValue<long>()).Value : -1;
    }

    // ---- patterns ----

    public async Task ComputePatternsAsync(ArtifactWriter w, StageContext ctx)
    {
        if (_patternFileKey is not null) await CheckPatternFileAsync(w, ctx);
        else await EstimatePatternsAsync(w, ctx);
    }

    /// <summary>The npz patterns were converted by Fetch; here they are checked against the model they will be used with.</summary>
    async Task CheckPatternFileAsync(ArtifactWriter w, StageContext ctx)
    {
        using var net = LoadModel(ctx.Cache);
        var rows = ReadTensors(ctx.Cache.DirectoryOf(_patternFileKey!), "patterns.parquet");
        string origin = ctx.Cache.ReadManifest(_patternFileKey!).Metrics.TryGetValue("origin", out var o) && o is not null ? o.GetValue<string>() : "pattern file";
        var weightsOrigin = ctx.Cache.ReadManifest(ModelKey).Metrics.TryGetValue("origin", out var wo) && wo is not null ? wo.GetValue<string>() : "the weights";
        if (rows.Count != net.WeightedLayers.Count)
            throw new InvalidDataException($"{origin}: {rows.Count} patterns, but the model has {net.WeightedLayers.Count} conv/dense layers");
        var check = new List<PatternCheckRow>();
        double total = 0; long units = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            var wShape = net.WeightedLayers[i].Weight.shape;
            if (!rows[i].Shape.SequenceEqual(wShape))
                throw new InvalidDataException($"{origin}: key '{Vgg16Npz.PatternKey(i)}' has shape {Formats.NpyHeader.FormatShape(Vgg16Npz.FileShape(rows[i].Shape))}, " +
                    $"expected {Formats.NpyHeader.FormatShape(Vgg16Npz.FileShape(wShape))} to match {Vgg16Npz.LayerName(i)} of {weightsOrigin}; the patterns belong to a different model");
            using var scope = torch.NewDisposeScope();
            var a = TensorStore.FromRow(rows[i]);
            rows[i].Values = [];
            var weight = net.WeightedLayers[i].Weight;
            var wta = (weight * a).reshape(wShape[0], -1).sum(1).to(ScalarType.Float64);
            var active = wta.ne(0);
            long n = active.sum().item<long>();
            double err = n == 0 ? 0 : (wta - 1).abs().masked_select(active).sum().item<double>();
            check.Add(new PatternCheckRow { Layer = i, Key = Vgg16Npz.PatternKey(i), Shape = Vgg16Npz.FileShape(rows[i].Shape), UnitsWithPattern = n, MeanAbsWtaMinus1 = n == 0 ? 0 : err / n });
            total += err; units += n;
            a.Dispose();
        }
        await w.WriteParquetAsync("check.parquet", check);
        // a₊ patterns satisfy wᵀa = 1 per unit (spec §3.2); a large value hints at patterns of another model
        w.Metric("mean_abs_wta_minus_1", units == 0 ? 0 : total / units);
        ctx.Log(Patterns.PatternFit.Describe(units == 0 ? 0 : total / units));
    }

    /// <summary>PatternNet a₊ estimated on a seeded stratified sample of the listed images (patterns.source: compute).</summary>
    async Task EstimatePatternsAsync(ArtifactWriter w, StageContext ctx)
    {
        using var net = LoadModel(ctx.Cache);
        var listing = Listing(ctx.Cache);
        int n = Math.Min(C.Patterns.TrainSize, listing.Count);
        var order = StratifiedSubset.Permutation(listing.Select(r => r.Label).ToList(), (ulong)Seeds.Derive(C.Seed, "patterns-subset"))[..n];
        using var est = new PatternEstimator(net);
        int bs = C.Patterns.BatchSize;
        for (int s = 0; s < n; s += bs)
        {
            using var scope = torch.NewDisposeScope();
            var batch = order.Skip(s).Take(bs).Select(i => listing[i]).ToList();
            est.Add(ToInput(await DecodeAsync(batch.Select(r => (r.ImageId, r.Label, r)).ToList())));
            ctx.Progress.Report("patterns", Math.Min(n, s + bs), n);
        }
        using var patterns = est.Result();
        await w.WriteParquetAsync("patterns.parquet", patterns.A.Select((a, i) => TensorStore.ToRow(i, $"A_{i}", a)).ToList());
        PatternNpz.Export(patterns, net, w.PathOf("patterns.npz"));
        w.RegisterFile("patterns.npz");
        w.Metric("images", n);
        w.Metric("mean_abs_wta_minus_1", PatternNpz.NormalisationError(patterns, net));
    }

    public PatternSet LoadPatterns(ArtifactCache cache, SequentialNet net)
    {
        var rows = _patternFileKey is not null
            ? ReadTensors(cache.DirectoryOf(_patternFileKey), "patterns.parquet")
            : ReadTensors(cache.DirectoryOf(PatternsKey), "patterns.parquet");
        return new PatternSet(ToTensors(rows)).CheckMatches(net);
    }

    public Task ComputeTrainAsync(ArtifactWriter w, StageContext ctx) =>
        throw new InvalidOperationException("the VGG16 tracks use the original's trained weights; there is no Train stage");

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

    protected static async Task WriteListingAsync(ArtifactWriter w, ListingData d, StageContext ctx)
    {
        if (d.Images.Count == 0) throw new DataSourceException($"{d.Root}: no images listed");
        await w.WriteParquetAsync("images.parquet", d.Images.ToList());
        await w.WriteParquetAsync("classes.parquet", d.Classes.Select((n, i) => new ClassRow { Index = i, Name = n }).ToList());
        w.Metric("root", d.Root);
        w.Metric("layout", d.Layout);
        w.Metric("images", d.Images.Count);
        w.Metric("classes", d.Classes.Count);
        ctx.Log($"  {d.Images.Count} images in {d.Classes.Count} classes under {d.Root} ({d.Layout} layout)");
    }

    public abstract Task ComputeDataAsync(ArtifactWriter w, StageContext ctx);

    List<ImageFileRow> Listing(ArtifactCache cache)
    {
        if (_listing is not null) return _listing;
        var dir = cache.DirectoryOf(DataKey);
        _listing = ParquetFiles.ReadAsync<ImageFileRow>(Path.Combine(dir, "images.parquet")).GetAwaiter().GetResult().ToList();
        _classes = ParquetFiles.ReadAsync<ClassRow>(Path.Combine(dir, "classes.parquet")).GetAwaiter().GetResult().OrderBy(r => r.Index).Select(r => r.Name).ToList();
        _byId = _listing.ToDictionary(r => r.ImageId);
        return _listing;
    }

    ImageFileRow Row(ArtifactCache cache, long id)
    {
        Listing(cache);
        return _byId!.TryGetValue(id, out var r) ? r : throw new InvalidDataException($"image id {id} is not in the Data stage's listing; rerun the Data stage");
    }

    public IReadOnlyList<ValImage>? ValImages(ArtifactCache cache)
    {
        _cache = cache;
        if (cache.Check(DataKey, verifyContent: false).Status != CacheStatus.Fresh) return null;
        var listing = Listing(cache);
        if (C.ValSize > listing.Count)
            throw new ConfigException($"{C.SourceFile}: val_size {C.ValSize} exceeds the {listing.Count} images of the dataset; lower val_size (or --val-size)");
        var order = StratifiedSubset.Select(listing.Select(r => r.Label).ToList(), C.ValSize, (ulong)C.Seed);
        var images = order.Select(i => new ValImage(listing[i].ImageId, listing[i].Label)).ToList();
        Memo.Sha256Many(order.Select(i => listing[i].Path)); // hash all used files at once (parallel, one memo write)
        return images;
    }

    /// <summary>Content hashes of the shard's image files: editing a used image recomputes the shards that read it.</summary>
    public IReadOnlyDictionary<string, string>? PreprocessFiles(IReadOnlyList<ValImage> images, ArtifactCache cache)
    {
        var rows = images.Select(v => Row(cache, v.Id)).ToList();
        var hashes = Memo.Sha256Many(rows.Select(r => r.Path));
        return rows.ToDictionary(r => r.RelativePath, r => hashes[r.Path]);
    }

    // ---- preprocess ----

    public Task<List<ImageRow>> PreprocessAsync(IReadOnlyList<ValImage> images, ArtifactCache cache, StageContext ctx) =>
        DecodeAsync(images.Select(v => (v.Id, v.Label, Row(cache, v.Id))).ToList());

    /// <summary>Decode (PIL convert('RGB')) and PIL-bilinear resize to 225×225, in parallel; stored as R, G, B planes.</summary>
    static Task<List<ImageRow>> DecodeAsync(IReadOnlyList<(long Id, int Label, ImageFileRow File)> items) => Task.Run(() =>
    {
        var rows = new ImageRow[items.Count];
        ParallelFor(items.Count, i =>
        {
            var (id, label, file) = items[i];
            var img = PilResize.Bilinear(ImageDecoder.DecodeRgb(file.Path), ImageSize, ImageSize);
            const int Plane = ImageSize * ImageSize;
            var planes = new byte[3 * Plane];
            for (int p = 0; p < Plane; p++)
            {
                planes[p] = img.Rgb[3 * p];
                planes[Plane + p] = img.Rgb[3 * p + 1];
                planes[2 * Plane + p] = img.Rgb[3 * p + 2];
            }
            rows[i] = new ImageRow { ImageId = id, Label = label, File = file.RelativePath, Channels = 3, Height = ImageSize, Width = ImageSize, Pixels = planes };
        });
        return rows.ToList();
    });

    public Tensor ToInput(IReadOnlyList<ImageRow> rows)
    {
        const int Plane = ImageSize * ImageSize;
        var buf = new float[rows.Count * 3 * Plane];
        ParallelFor(rows.Count, i =>
        {
            var px = rows[i].Pixels;
            if (px.Length != 3 * Plane) throw new InvalidDataException($"preprocessed image {rows[i].ImageId} has {px.Length} bytes, expected 3×{ImageSize}×{ImageSize}; rerun Preprocess");
            for (int c = 0; c < 3; c++)
            {
                int src = (2 - c) * Plane; // BGR plane c from stored RGB plane 2 − c
                double mean = VggPreprocess.MeanBgr[c];
                int dst = (i * 3 + c) * Plane;
                // float64 subtraction, then float32, as NumPy does before astype(float32)
                for (int p = 0; p < Plane; p++) buf[dst + p] = (float)(px[src + p] - mean);
            }
        });
        return torch.tensor(buf, new long[] { rows.Count, 3, ImageSize, ImageSize });
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
        if (_classes is not null && _cache is not null && _classes.Count == ModelClasses(_cache) && classIndex >= 0 && classIndex < _classes.Count) return _classes[classIndex];
        return classIndex.ToString(CultureInfo.InvariantCulture);
    }

    public PgIg.Plotting.GridImage DisplayImage(string label, float[] input) => PgIg.Plotting.GridImage.FromCaffeBgr(label, input, MeanBgr);
}
