using System.Diagnostics;
using System.Text.Json.Nodes;
using PgIg.Config;
using PgIg.Methods;
using PgIg.Pipeline;
using PgIg.Rules;
using PgIg.Tracks;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Stages;

/// <summary>
/// Attribute: one map per image, per method (a Cake stage Attribute:&lt;method&gt; each), per shard. Besides the
/// method's own parameters, its key holds what the method declares it depends on (<see cref="MethodKind"/>:
/// quirks, batch composition, a reference set).
/// </summary>
public sealed class AttributeStage : Stage
{
    public override string Name => "Attribute";

    const string File = "maps.parquet";

    readonly Dictionary<string, IReadOnlyList<StageKey>> _keys = new(StringComparer.Ordinal);
    (string Name, BackwardRule Rule, AttributionMethod Method)? _built;
    Tensor? _reference;
    ArtifactCache? _cache;

    /// <summary>A method's keys, one per shard.</summary>
    public IReadOnlyList<StageKey> KeysOf(ResolvedMethod m) => _keys[m.Name];

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        var c = p.Config;
        foreach (var m in c.Methods) Validate(m);
        if (p.Get<DataStage>().Images is null) return c.Methods.Select(m => NotYetKnown($"{Name}:{m.Name}")).ToList();
        _cache = p.Cache;
        var pre = p.Get<PreprocessStage>().Keys;
        var predict = p.Get<PredictStage>().Keys;
        var patterns = p.Get<PatternsStage>().Key;
        var memo = FileHashMemo.For(c.CacheDir);
        var result = new List<PlannedStage>();
        foreach (var m in c.Methods)
        {
            var kind = MethodRegistry.KindOf(m);
            var config = KeyConfig(m, kind, c);
            var code = new CodeId("attribute-v1", MethodProbe.Fingerprint(p.Run.Fingerprints, kind, m.Rule, c.Quirks));
            // files a method reads (imported maps) by content, so editing one recomputes exactly its units
            var files = m.InputFiles().ToDictionary(f => f.Key, f => System.IO.File.Exists(f.Value) ? memo.Sha256(f.Value) : "missing");
            var keys = new List<StageKey>();
            var units = new List<StageUnit>();
            for (int i = 0; i < pre.Count; i++)
            {
                var upstream = new List<(string, StageKey)> { ("model", p.Model), ("preprocess", pre[i]) };
                if (m.UsesPatterns) upstream.Add(("patterns", patterns!));
                if (kind.UsesReferenceSet(c.Quirks)) upstream.Add(("reference", pre[0]));
                var key = new StageKey("attribute", $"attribute:{m.Name}/shard-{i:0000}", code, config, upstream, files.Count > 0 ? files : null);
                keys.Add(key);
                int shard = i;
                // the predictions are a need, not part of the key: they follow from the model and shard in it
                units.Add(new StageUnit(key, upstream.Select(u => u.Item2).Append(predict[i]).ToList(), w => AttributeAsync(p, m, shard, pre.Count, w)));
            }
            _keys[m.Name] = keys;
            result.Add(Planned(units, $"{Name}:{m.Name}"));
        }
        return result;
    }

    /// <summary>A method's own inputs (imported maps' files) are checked before anything runs; errors point at its config entry.</summary>
    static void Validate(ResolvedMethod m)
    {
        try { MethodRegistry.KindOf(m).Validate(m); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
        {
            throw new ConfigException($"{m.Where ?? "config"}: method '{m.Name}': {e.Message}");
        }
    }

    /// <summary>The method and what it declares of the config; the batch size only where the original couples
    /// the images of a batch (spec §7.6).</summary>
    static object KeyConfig(ResolvedMethod m, MethodKind kind, PipelineConfig c) =>
        new { method = m.ToKeyObject(), quirks = kind.KeyQuirks(c.Quirks), batch_size = kind.BatchCoupled(c.Quirks) ? c.BatchSize : (int?)null };

    /// <summary>
    /// The method over its rule, built once for all shards of a method (a pattern rule holds W⊙A, as large as the
    /// model). Only the current method's is kept: a process that runs every method (pgig run Plots) would otherwise
    /// hold one W⊙A per pattern method.
    /// </summary>
    public override void Release()
    {
        _built?.Rule.Dispose();
        _built = null;
        _reference?.Dispose();
        _reference = null;
    }

    AttributionMethod MethodFor(PlanContext p, ResolvedMethod m)
    {
        if (_built is { } built && built.Name == m.Name) return built.Method;
        _built?.Rule.Dispose();
        _built = null;
        var rule = MethodRegistry.CreateRule(m, p.Net, m.UsesPatterns ? p.Patterns : null);
        var kind = MethodRegistry.KindOf(m);
        var reference = kind.UsesReferenceSet(p.Config.Quirks) ? _reference : null;
        var catalog = kind.FromFiles ? p.Track.Catalog(p.Get<DataStage>().Directory) : null;
        var method = MethodRegistry.Create(m, rule, p.Net, p.Config.Quirks, p.Config.MemoryBudgetBytes, reference, catalog);
        _built = (m.Name, rule, method);
        return method;
    }

    async Task AttributeAsync(PlanContext p, ResolvedMethod m, int shard, int shards, ArtifactWriter w)
    {
        var c = p.Config;
        var pre = p.Get<PreprocessStage>();
        var rows = await pre.ReadShardAsync(shard);
        var predictions = await p.Get<PredictStage>().ReadAsync(shard);
        if (MethodRegistry.KindOf(m).UsesReferenceSet(c.Quirks) && _reference is null)
            _reference = p.Track.ToInput(await pre.ReadShardAsync(0)).to(p.Run.Device).DetachFromDisposeScope();
        var method = MethodFor(p, m);
        var net = p.Net;
        var maps = new List<MapRow>();
        var sw = Stopwatch.StartNew();
        int nb = (rows.Count + c.BatchSize - 1) / c.BatchSize;
        for (int b = 0; b < nb; b++)
        {
            using var scope = torch.NewDisposeScope();
            var batchRows = rows.Skip(b * c.BatchSize).Take(c.BatchSize).ToList();
            var x = p.Track.ToInput(batchRows).to(p.Run.Device);
            var ids = batchRows.Select(r => r.ImageId).ToArray();
            var targets = predictions.Skip(b * c.BatchSize).Take(c.BatchSize).Select(r => (long)r.TargetClass).ToArray();
            var classes = torch.tensor(targets).to(p.Run.Device);
            var info = new BatchInfo(ids, m.Seed, string.Join(",", ids), batchRows.Select(r => r.File).ToArray());
            var s = method.Attribute(x, classes, info).cpu().contiguous();
            var flat = s.reshape(s.shape[0], -1).data<float>().ToArray();
            long per = s.numel() / s.shape[0];
            for (int i = 0; i < batchRows.Count; i++)
                maps.Add(new MapRow { ImageId = ids[i], TargetClass = (int)targets[i], Map = Float32.ToBytes(flat.AsSpan((int)(i * per), (int)per)) });
            p.Run.Progress.Report($"attribute {m.Name}", shard * nb + b + 1, shards * nb, $"shard {shard + 1}/{shards}");
        }
        await w.WriteParquetAsync(File, maps);
        w.Metric("map_shape", new JsonArray(net.InputShape.Select(d => (JsonNode?)d).ToArray()));
        w.Metric("seconds_per_image", sw.Elapsed.TotalSeconds / Math.Max(1, rows.Count));
        w.Metric("passes_per_image", method.PassesPerImage);
    }

    /// <summary>A method's maps of one shard, in selection order.</summary>
    public async Task<List<MapRow>> ReadMapsAsync(ResolvedMethod m, int shard) =>
        (await ParquetFiles.ReadAsync<MapRow>(Path.Combine(_cache!.DirectoryOf(_keys[m.Name][shard]), File))).ToList();
}
