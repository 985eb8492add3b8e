using System.Text.Json.Nodes;
using PgIg.Data.Download;
using PgIg.Pipeline;
using PgIg.Tracks;

namespace PgIg.Stages;

/// <summary>
/// Fetch: the npz files a track's sources name (the original's VGG16 weights, and its pattern file where a method
/// uses patterns), from a local path or the first working mirror, converted to tensor Parquet. Nothing for
/// tracks that train their model and estimate their patterns.
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
        var memo = new FileHashMemo(p.Config.CacheDir);
        var units = new List<StageUnit>();
        if (p.Track.Model is FetchedModel model)
        {
            WeightsKey = p.ModelKey = KeyFor(model.File, memo);
            units.Add(new StageUnit(WeightsKey, [], w => FetchAsync(p, model.File, WeightsKey, weights: true, memo, w)));
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
        return new StageKey("fetch", $"fetch/{src.Role}", "fetch-npz-v1", config, null, files);
    }

    static async Task FetchAsync(PlanContext p, NpzSource src, StageKey key, bool weights, FileHashMemo memo, ArtifactWriter w)
    {
        var ctx = p.Run;
        var (file, rows) = await NpzFetch.ResolveAsync(src, ctx.DownloadDir, new Downloader(ctx.Http), path => src.Read(path).ToList(), ctx.Log, ctx.Progress, memo);
        if (key.Inputs["files"] is SortedDictionary<string, string> planned && planned.TryGetValue(src.FileName, out var plannedSha) && plannedSha != file.Sha256)
            throw new FetchException($"{file.Path} changed while the pipeline was planned (sha256 {plannedSha} then, {file.Sha256} now); run the command again");
        string name = weights ? TensorFiles.ModelFile : TensorFiles.PatternsFile;
        await TensorFiles.WriteLargeAsync(w, name, rows);
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
}
