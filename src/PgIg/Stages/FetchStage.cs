using System.Text.Json.Nodes;
using PgIg.Data.Download;
using PgIg.Models;
using PgIg.Pipeline;
using PgIg.Tracks;
using TorchSharp;

namespace PgIg.Stages;

/// <summary>
/// Fetch: the npz files a track's sources name (the original's VGG16 weights, and its pattern file where a method
/// uses patterns), from a local path or the first working mirror, converted to tensor Parquet; or a custom model's
/// state_dict, mapped onto its layer list. Nothing for tracks that train their model and estimate their patterns.
/// </summary>
public sealed class FetchStage : Stage
{
    public override string Name => "Fetch";

    /// <summary>The weights' unit, where the model is fetched.</summary>
    public StageKey? WeightsKey { get; private set; }
    /// <summary>The pattern file's unit, where patterns come from a file and some method uses them.</summary>
    public StageKey? PatternFileKey { get; private set; }

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        var memo = FileHashMemo.For(p.Config.CacheDir);
        var units = new List<StageUnit>();
        if (p.Track.Model is FetchedModel model)
        {
            WeightsKey = p.ModelKey = KeyFor(model.File, memo);
            units.Add(new StageUnit(WeightsKey, [], w => FetchAsync(p, model.File, WeightsKey, weights: true, memo, w)));
        }
        if (p.Track.Model is ImportedModel imported)
        {
            WeightsKey = p.ModelKey = KeyFor(imported, memo, p.Run.Fingerprints);
            units.Add(new StageUnit(WeightsKey, [], w => ImportAsync(p, imported, WeightsKey, memo, w)));
        }
        // the pattern file is as large as the weights: only fetched when it is used
        if (p.Track.Patterns is PatternFile patterns && p.Config.Methods.Any(m => m.UsesPatterns))
        {
            PatternFileKey = KeyFor(patterns.File, memo);
            units.Add(new StageUnit(PatternFileKey, [], w => FetchAsync(p, patterns.File, PatternFileKey, weights: false, memo, w)));
        }
        return [Planned(units)];
    }

    /// <summary>
    /// The key covers the file's content: its SHA-256 for a local file or a pinned download (so the two share
    /// artifacts), the mirror list for an unpinned download, whose content is unknown until it is fetched.
    /// </summary>
    public static StageKey KeyFor(NpzSource src, FileHashMemo memo)
    {
        string? sha = src.PinnedSha256;
        if (src.IsLocal) sha = File.Exists(src.LocalPath) ? memo.Sha256(src.LocalPath!) : "missing";
        object config = sha is null ? new { role = src.Role, mirrors = src.Mirrors.ToArray() } : new { role = src.Role };
        var files = sha is null ? null : new Dictionary<string, string> { [src.FileName] = sha };
        // the conversion copies and transposes the file's numbers; it computes none
        return new StageKey("fetch", $"fetch/{src.Role}", CodeId.NoNumbers("fetch-npz-v2"), config, null, files);
    }

    /// <summary>The key of the unit that stores a fetched or imported model's weights.</summary>
    public static StageKey KeyForModel(ModelSource model, FileHashMemo memo, Fingerprints fingerprints) => model switch
    {
        FetchedModel f => KeyFor(f.File, memo),
        ImportedModel i => KeyFor(i, memo, fingerprints),
        _ => throw new ArgumentException($"{model.GetType().Name} is not fetched", nameof(model)),
    };

    /// <summary>A custom model's key: the weights file's content (not its name or place) and the layer list that maps it.</summary>
    public static StageKey KeyFor(ImportedModel m, FileHashMemo memo, Fingerprints fingerprints)
    {
        string sha = File.Exists(m.Path) ? memo.Sha256(m.Path) : "missing";
        return new StageKey("fetch", "fetch/weights", new CodeId("import-weights-v2", fingerprints.Of("fetch/fold-batch-norm", ProbeFold)),
            new { role = "weights", architecture = m.Architecture.ToKeyObject() }, null, new Dictionary<string, string> { ["weights"] = sha });
    }

    /// <summary>Fingerprint probe of the import's arithmetic: a batch norm folded into a 4×6 layer.</summary>
    static void ProbeFold(NumericDigest d)
    {
        double[] V(string name, int n) => ProbeInput.Uniform(name, n);
        double[] w = V("fold-w", 24), b = V("fold-b", 4);
        CustomArchitecture.FoldBatchNorm(w, b, V("fold-gamma", 4), V("fold-beta", 4), V("fold-mean", 4), V("fold-var", 4).Select(v => v + 1.5).ToArray(), 1e-5);
        d.AddSeries("w", w).AddSeries("b", b);
    }

    static async Task ImportAsync(PlanContext p, ImportedModel m, StageKey key, FileHashMemo memo, ArtifactWriter w)
    {
        if (!File.Exists(m.Path)) throw new FileNotFoundException($"model.weights: {m.Path} does not exist", m.Path);
        string sha = memo.Sha256(m.Path);
        if (key.Inputs["files"] is SortedDictionary<string, string> planned && planned.Values.Single() != sha)
            throw new FetchException($"{m.Path} changed while the pipeline was planned (sha256 {planned.Values.Single()} then, {sha} now); run the command again");
        if (m.PinnedSha256 is { } pin && !string.Equals(pin, sha, StringComparison.OrdinalIgnoreCase))
            throw new FetchException($"{m.Path} has sha256 {sha}, but model.weights_sha256 pins {pin}; it is not the file the config names");
        var dict = StateDict.Read(m.Path);
        var imported = CustomArchitecture.Import(m.Architecture, dict);
        var tensors = imported.Rows.Select(TensorStore.FromRow).ToList();
        using (var net = CustomArchitecture.Build(m.Architecture, [.. tensors.Where((_, i) => i % 2 == 0)], [.. tensors.Where((_, i) => i % 2 == 1)]))
        using (torch.NewDisposeScope())
            net.Forward(torch.zeros(new long[] { 1 }.Concat(net.InputShape).ToArray()));   // the list runs end to end at this input size
        await TensorFiles.WriteAsync(w, TensorFiles.ModelFile, imported.Rows);
        w.Metric("origin", m.Path);
        w.Metric("sha256", sha);
        w.Metric("bytes", new FileInfo(m.Path).Length);
        w.Metric("format", dict.Format);
        w.Metric("widths", new JsonArray(imported.Widths.Select(x => (JsonNode?)x).ToArray()));
        w.Metric("classes", imported.Classes);
        w.Metric("parameters", imported.Parameters);
        w.Metric("folded_batch_norms", imported.FoldedBatchNorms);
        p.Run.Log($"  weights: {m.Path} ({dict.Format}, {dict.Tensors.Count} tensors) → {TensorFiles.ModelFile}: {imported.Widths.Count} conv/linear layers, " +
            $"{imported.FoldedBatchNorms} batch norm(s) folded, {imported.Classes} classes");
    }

    static async Task FetchAsync(PlanContext p, NpzSource src, StageKey key, bool weights, FileHashMemo memo, ArtifactWriter w)
    {
        var ctx = p.Run;
        // the file's keys and shapes are checked here (a bad download falls through to the next mirror); its data is
        // read chunk by chunk while the artifact is written, so the 0.5 GB file is never held whole
        var (file, rows) = await NpzFetch.ResolveAsync(src, ctx.DownloadDir, new Downloader(ctx.Http), src.Read, ctx.Log, ctx.Progress, memo);
        if (key.Inputs["files"] is SortedDictionary<string, string> planned && planned.TryGetValue(src.FileName, out var plannedSha) && plannedSha != file.Sha256)
            throw new FetchException($"{file.Path} changed while the pipeline was planned (sha256 {plannedSha} then, {file.Sha256} now); run the command again");
        string name = weights ? TensorFiles.ModelFile : TensorFiles.PatternsFile;
        var heads = new List<TensorRow>();
        await TensorFiles.WriteAsync(w, name, rows.Select(r => { if (r.Offset == 0) heads.Add(new TensorRow { Index = r.Index, Name = r.Name, Shape = r.Shape }); return r; }));
        w.Metric("origin", file.Origin);
        w.Metric("sha256", file.Sha256);
        w.Metric("bytes", new FileInfo(file.Path).Length);
        var shapes = heads.Where(r => !weights || r.Name.StartsWith("W_", StringComparison.Ordinal)).Select(r => r.Shape).ToList();
        w.Metric("widths", new JsonArray(shapes.Select(s => (JsonNode?)s[0]).ToArray()));
        if (weights)
        {
            w.Metric("classes", shapes[^1][0]);
            w.Metric("parameters", heads.Sum(r => r.Elements));
        }
        ctx.Log($"  {src.Role}: {file.Origin} → {name} ({heads.Count} tensors)");
    }
}
