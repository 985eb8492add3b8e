using System.Diagnostics;
using System.Text.Json.Nodes;
using PgIg.Config;
using PgIg.Degradation;
using PgIg.Methods;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Rules;
using PgIg.Tracks;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Pipeline;

/// <summary>One unit of work: a stage, or one shard of a sharded stage.</summary>
public sealed record StageUnit(StageKey Key, IReadOnlyList<StageKey> Needs, Func<ArtifactWriter, Task> Compute);

/// <summary>A Cake-level stage (Data, Train, Attribute:integrate_grad, ...) and its units.</summary>
/// <param name="Known">False while its units cannot be listed yet (the evaluation set needs the Data stage).</param>
public sealed record PlannedStage(string Name, string Group, IReadOnlyList<StageUnit> Units, bool Known = true);

public enum Freshness { Fresh, Stale, Missing }

/// <summary>A run with --require-cached found something to compute.</summary>
public sealed class NotCachedException(string message) : Exception(message);

public sealed record StageStatus(string Stage, Freshness State, int FreshUnits, int TotalUnits, string? Reason);

/// <summary>
/// The pipeline's stage graph for one config: every unit's key is computed up front from the config
/// (and, for shards, the evaluation set), so status, clean and skip decisions need no computation.
/// </summary>
public sealed class PipelinePlan
{
    public static readonly string[] Groups = ["Fetch", "Data", "Train", "Patterns", "Preprocess", "Attribute", "Degrade", "Plots"];

    readonly PipelineConfig _c;
    readonly ITrack _track;
    readonly StageContext _ctx;
    readonly Dictionary<string, StageUnit> _unitsByHash = new();
    readonly List<PlannedStage> _stages = new();
    SequentialNet? _net;
    PatternSet? _patterns;
    readonly Dictionary<string, (BackwardRule Rule, AttributionMethod Method)> _methods = new();

    public PipelineConfig Config => _c;
    public ITrack Track => _track;
    public ArtifactCache Cache => _ctx.Cache;
    public IReadOnlyList<PlannedStage> Stages => _stages;
    public IReadOnlyList<ValImage>? Images { get; }
    public IReadOnlyList<IReadOnlyList<ValImage>> Shards { get; } = [];
    public StageKey? PlotsKey { get; private set; }

    public PipelinePlan(PipelineConfig config, ITrack track, StageContext ctx)
    {
        _c = config; _track = track; _ctx = ctx;
        Add(new PlannedStage("Fetch", "Fetch", track.FetchKeys.Select(k => Unit(k, [], w => track.ComputeFetchAsync(k, w, ctx))).ToList()));
        Add(new PlannedStage("Data", "Data", [Unit(track.DataKey, [], w => track.ComputeDataAsync(w, ctx))]));
        Add(new PlannedStage("Train", "Train", track.TrainKey is { } tk ? [Unit(tk, [track.DataKey], w => track.ComputeTrainAsync(w, ctx))] : []));
        var modelNeeds = track.TrainKey is null ? track.FetchKeys.ToList() : [track.TrainKey];
        bool anyPatterns = _c.Methods.Any(m => m.UsesPatterns);
        Add(new PlannedStage("Patterns", "Patterns", anyPatterns
            ? [Unit(track.PatternsKey, modelNeeds.Append(track.DataKey).Distinct().ToList(), w => track.ComputePatternsAsync(w, ctx))]
            : []));

        Images = track.ValImages(ctx.Cache);
        if (Images is null)
        {
            foreach (var name in new[] { "Preprocess" }.Concat(_c.Methods.Select(m => $"Attribute:{m.Name}")).Concat(_c.Methods.Select(m => $"Degrade:{m.Name}")).Append("Plots"))
                Add(new PlannedStage(name, name.Split(':')[0], [], Known: false));
            return;
        }
        Shards = Images.Chunk(_c.ShardSize).Select(s => (IReadOnlyList<ValImage>)s).ToList();

        var pre = Shards.Select((imgs, i) => new StageKey("preprocess", $"preprocess/shard-{i:0000}", "preprocess-v1",
            new { preprocess = track.PreprocessConfig, image_ids = imgs.Select(v => v.Id).ToArray() }, [("data", track.DataKey)],
            track.PreprocessFiles(imgs, ctx.Cache))).ToList();
        Add(new PlannedStage("Preprocess", "Preprocess", pre.Select((k, i) => Unit(k, [track.DataKey], w => PreprocessAsync(i, w))).ToList()));

        var attribute = new Dictionary<string, List<StageKey>>();
        foreach (var m in _c.Methods)
        {
            var keys = new List<StageKey>();
            var units = new List<StageUnit>();
            for (int i = 0; i < Shards.Count; i++)
            {
                var upstream = new List<(string, StageKey)> { ("model", track.ModelKey), ("preprocess", pre[i]) };
                if (m.UsesPatterns) upstream.Add(("patterns", track.PatternsKey));
                if (m.Kind == "exp_grad" && !_c.Quirks.ExpGradBatchBaselines) upstream.Add(("reference", pre[0]));
                var key = new StageKey("attribute", $"attribute:{m.Name}/shard-{i:0000}", "attribute-v1", AttributeConfig(m), upstream);
                keys.Add(key);
                int shard = i;
                units.Add(Unit(key, upstream.Select(u => u.Item2).ToList(), w => AttributeAsync(m, shard, w)));
            }
            attribute[m.Name] = keys;
            Add(new PlannedStage($"Attribute:{m.Name}", "Attribute", units));
        }

        var degradeKeys = new List<(string, StageKey)>();
        foreach (var m in _c.Methods)
        {
            var units = new List<StageUnit>();
            for (int i = 0; i < Shards.Count; i++)
            {
                var upstream = new List<(string, StageKey)> { ("attribute", attribute[m.Name][i]), ("model", track.ModelKey), ("preprocess", pre[i]) };
                var key = new StageKey("degrade", $"degrade:{m.Name}/shard-{i:0000}", "degrade-v1", DegradeConfig(), upstream);
                degradeKeys.Add(($"{m.Name}/{i:0000}", key));
                int shard = i;
                units.Add(Unit(key, upstream.Select(u => u.Item2).ToList(), w => DegradeAsync(m, shard, w)));
            }
            Add(new PlannedStage($"Degrade:{m.Name}", "Degrade", units));
        }

        var plotsUpstream = degradeKeys.Concat(_c.Methods.Select(m => ($"attribute-grid:{m.Name}", attribute[m.Name][0]))).Append(("preprocess-grid", pre[0])).ToList();
        PlotsKey = new StageKey("plots", "plots", "plots-v2", new
        {
            methods = _c.Methods.Select(m => m.Name).ToArray(), plots = new { title = _c.Plots.Title, grid_images = _c.Plots.GridImages, y_from_zero = _c.Plots.YFromZero }, dataset = track.DatasetLabel, images = Images.Count,
            protocol = _c.Protocol.ToString().ToLowerInvariant(), quirks = _c.Quirks.ToKeyObject(), name = _c.Name, orders = _c.Degrade.Orders, bootstrap_seed = _c.Seed,
        }, plotsUpstream);
        Add(new PlannedStage("Plots", "Plots", [Unit(PlotsKey, plotsUpstream.Select(u => u.Item2).ToList(), PlotsAsync)]));
    }

    StageUnit Unit(StageKey key, IReadOnlyList<StageKey> needs, Func<ArtifactWriter, Task> compute) => new(key, needs, compute);

    void Add(PlannedStage s)
    {
        _stages.Add(s);
        foreach (var u in s.Units) _unitsByHash.TryAdd(u.Key.Hash, u);
    }

    /// <summary>The stages a name stands for: the stage itself, or for a group name such as Attribute every
    /// stage of that group (Attribute:&lt;method&gt; for each method), as the Cake targets do.</summary>
    public IReadOnlyList<PlannedStage> Resolve(string name)
    {
        var exact = _stages.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
        if (exact is not null) return [exact];
        var group = _stages.Where(s => string.Equals(s.Group, name, StringComparison.OrdinalIgnoreCase)).ToList();
        return group.Count > 0 ? group : [Get(name)];
    }

    public PlannedStage Get(string name) =>
        _stages.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ConfigException($"unknown stage '{name}'{Suggest.DidYouMean(name, _stages.Select(s => s.Name).Concat(Groups))}; stages of this config: {string.Join(", ", _stages.Select(s => s.Name))}");

    public IEnumerable<StageKey> AllKeys() => _stages.SelectMany(s => s.Units).Select(u => u.Key);

    object AttributeConfig(ResolvedMethod m)
    {
        var q = _c.Quirks;
        var quirks = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        if (m.Kind != "random") { quirks["backprop_from_softmax"] = q.BackpropFromSoftmax; quirks["probability_seed"] = q.ProbabilitySeedForPatternAndGuided; }
        if (m.Kind is "integrate_grad" or "sg_ig") quirks["ig_exclude_endpoint"] = q.IgExcludeEndpoint;
        bool noise = m.Kind is "smooth_grad" or "smooth_grad2" or "var_grad" or "sg_ig";
        if (noise) { quirks["cumulative_noise"] = q.CumulativeNoise; quirks["cumulative_gradient"] = q.CumulativeGradient; quirks["batch_sigma"] = q.BatchSigma; }
        if (m.Kind == "exp_grad") quirks["exp_grad_batch_baselines"] = q.ExpGradBatchBaselines;
        // batch composition matters only where the original couples the images of a batch (spec §7.6)
        bool coupled = (noise && q.BatchSigma) || (m.Kind == "exp_grad" && q.ExpGradBatchBaselines);
        return new { method = m.ToKeyObject(), quirks, batch_size = coupled ? _c.BatchSize : (int?)null };
    }

    object DegradeConfig() => new
    {
        patch_size = _c.Degrade.PatchSize, n_patches = _c.Degrade.NPatches, orders = _c.Degrade.Orders,
        skip_top_patch = _c.Quirks.SkipTopPatch, positive_only_replacement = _c.Quirks.PositiveOnlyReplacement,
        signed_ranking = _c.Quirks.SignedRanking, seed = _c.Seed,
    };

    // ---- execution ----

    /// <summary>
    /// Runs every unit of a stage (or one shard) after making sure each unit it depends on, transitively,
    /// is valid: like the Cake build, every upstream stage is checked, not only missing ones.
    /// </summary>
    /// <param name="requireCached">Fail with <see cref="NotCachedException"/> instead of computing anything.</param>
    public async Task<(int Computed, int Cached)> RunAsync(string stageName, int? shard = null, bool requireCached = false)
    {
        var stage = Get(stageName);
        if (!stage.Known)
            throw new InvalidOperationException($"stage {stage.Name} needs the evaluation set; run the Data stage first");
        var units = shard is null ? stage.Units : stage.Units.Where(u => u.Key.Slot.EndsWith($"/shard-{shard:0000}", StringComparison.Ordinal)).ToList();
        if (shard is not null && units.Count == 0)
            throw new ArgumentException(stage.Units.Any(u => u.Key.Slot.Contains("/shard-", StringComparison.Ordinal))
                ? $"stage {stage.Name} has no shard {shard}; its shards are 0–{stage.Units.Count - 1}"
                : $"stage {stage.Name} is not sharded; run it without --shard");

        var closure = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<StageKey>(units.SelectMany(u => u.Needs));
        while (pending.Count > 0)
        {
            var k = pending.Pop();
            if (!closure.Add(k.Hash)) continue;
            if (!_unitsByHash.TryGetValue(k.Hash, out var up))
                throw new InvalidOperationException($"{k.Slot} is needed but this plan does not produce it");
            foreach (var n in up.Needs) pending.Push(n);
        }
        if (requireCached)
        {
            var notFresh = _stages.SelectMany(s => s.Units).Where(u => closure.Contains(u.Key.Hash)).Concat(units)
                .FirstOrDefault(u => Cache.Check(u.Key, verifyContent: false).Status != CacheStatus.Fresh);
            if (notFresh is not null)
                throw new NotCachedException($"{notFresh.Key.Slot} would be computed, but --require-cached was given");
        }
        foreach (var up in _stages.SelectMany(s => s.Units).Where(u => closure.Contains(u.Key.Hash)))
            await EnsureAsync(up);

        int computed = 0, cached = 0;
        foreach (var u in units)
        {
            if (await EnsureAsync(u)) computed++; else cached++;
        }
        return (computed, cached);
    }

    async Task<bool> EnsureAsync(StageUnit unit)
    {
        if (Cache.Check(unit.Key).Status == CacheStatus.Fresh) { Cache.Log.Append(unit.Key, "cached"); return false; }
        foreach (var need in unit.Needs)
        {
            if (!_unitsByHash.TryGetValue(need.Hash, out var up))
                throw new InvalidOperationException($"{unit.Key.Slot} needs {need.Slot}, which this plan does not produce");
            await EnsureAsync(up);
        }
        var sw = Stopwatch.StartNew();
        var (_, computed) = await Cache.GetOrComputeAsync(unit.Key, unit.Compute, msg => _ctx.Log(msg));
        if (computed) _ctx.Log($"computed {unit.Key} in {sw.Elapsed.TotalSeconds:0.0}s");
        return computed;
    }

    public IReadOnlyList<StageStatus> Status()
    {
        var result = new List<StageStatus>();
        var bySlot = new Dictionary<string, Dictionary<string, List<Manifest>>>();
        foreach (var s in _stages)
        {
            if (!s.Known) { result.Add(new StageStatus(s.Name, Freshness.Missing, 0, 0, "waits for the Data stage (evaluation set unknown)")); continue; }
            if (s.Units.Count == 0) { result.Add(new StageStatus(s.Name, Freshness.Fresh, 0, 0, "nothing to do for this config")); continue; }
            int fresh = 0; string? reason = null; bool anyPrevious = false;
            foreach (var u in s.Units)
            {
                var check = Cache.Check(u.Key, verifyContent: false);
                if (check.Status == CacheStatus.Fresh) { fresh++; continue; }
                if (!bySlot.TryGetValue(u.Key.Stage, out var map))
                    bySlot[u.Key.Stage] = map = Cache.Manifests(u.Key.Stage).Select(x => x.Manifest).GroupBy(m => m.Slot).ToDictionary(g => g.Key, g => g.ToList());
                var why = check.Status == CacheStatus.Invalid ? $"invalid artifact: {check.Reason}" : Cache.StaleReason(u.Key, map);
                if (why is not null) { anyPrevious = true; reason ??= $"{u.Key.Slot}: {why}"; }
            }
            var state = fresh == s.Units.Count ? Freshness.Fresh : anyPrevious ? Freshness.Stale : Freshness.Missing;
            result.Add(new StageStatus(s.Name, state, fresh, s.Units.Count, state == Freshness.Fresh ? null : reason));
        }
        return result;
    }

    // ---- stage bodies ----

    SequentialNet Net => _net ??= _track.LoadModel(Cache).To(_ctx.Device);
    PatternSet Patterns => _patterns ??= _track.LoadPatterns(Cache, Net).To(_ctx.Device);

    async Task<List<ImageRow>> ShardImages(int shard)
    {
        var key = _stages.First(s => s.Name == "Preprocess").Units[shard].Key;
        return (await ParquetFiles.ReadAsync<ImageRow>(Path.Combine(Cache.DirectoryOf(key), "images.parquet"))).ToList();
    }

    async Task PreprocessAsync(int shard, ArtifactWriter w)
    {
        var rows = await _track.PreprocessAsync(Shards[shard], Cache, _ctx);
        await w.WriteParquetAsync("images.parquet", rows);
    }

    (BackwardRule Rule, AttributionMethod Method) MethodFor(ResolvedMethod m, Func<Tensor?> reference)
    {
        if (_methods.TryGetValue(m.Name, out var built)) return built;
        var rule = MethodRegistry.CreateRule(m, Net, m.UsesPatterns ? Patterns : null);   // W⊙A built once per run
        var method = MethodRegistry.Create(m, rule, Net, _c.Quirks, _c.MemoryBudgetBytes, m.Kind == "exp_grad" && !_c.Quirks.ExpGradBatchBaselines ? reference() : null);
        return _methods[m.Name] = (rule, method);
    }

    Tensor? _reference;

    async Task AttributeAsync(ResolvedMethod m, int shard, ArtifactWriter w)
    {
        var rows = await ShardImages(shard);
        if (m.Kind == "exp_grad" && !_c.Quirks.ExpGradBatchBaselines && _reference is null)
            _reference = _track.ToInput(await ShardImages(0)).to(_ctx.Device).DetachFromDisposeScope();
        var (_, method) = MethodFor(m, () => _reference);
        var maps = new List<MapRow>();
        var sw = Stopwatch.StartNew();
        int nb = (rows.Count + _c.BatchSize - 1) / _c.BatchSize;
        for (int b = 0; b < nb; b++)
        {
            using var scope = torch.NewDisposeScope();
            var batchRows = rows.Skip(b * _c.BatchSize).Take(_c.BatchSize).ToList();
            var x = _track.ToInput(batchRows).to(_ctx.Device);
            var classes = Net.Forward(x).argmax(1);
            var ids = batchRows.Select(r => r.ImageId).ToArray();
            var info = new BatchInfo(ids, m.Seed, string.Join(",", ids));
            var s = method.Attribute(x, classes, info).cpu().contiguous();
            var flat = s.reshape(s.shape[0], -1).data<float>().ToArray();
            var cls = classes.cpu().data<long>().ToArray();
            long per = s.numel() / s.shape[0];
            for (int i = 0; i < batchRows.Count; i++)
                maps.Add(new MapRow { ImageId = ids[i], TargetClass = (int)cls[i], Map = Float32.ToBytes(flat.AsSpan((int)(i * per), (int)per)) });
            _ctx.Progress.Report($"attribute {m.Name}", shard * nb + b + 1, Shards.Count * nb, $"shard {shard + 1}/{Shards.Count}");
        }
        await w.WriteParquetAsync("maps.parquet", maps);
        w.Metric("map_shape", new JsonArray(Net.InputShape.Select(d => (JsonNode?)d).ToArray()));
        w.Metric("seconds_per_image", sw.Elapsed.TotalSeconds / Math.Max(1, rows.Count));
        w.Metric("passes_per_image", method.PassesPerImage);
    }

    async Task<List<MapRow>> Maps(ResolvedMethod m, int shard)
    {
        var key = Get($"Attribute:{m.Name}").Units[shard].Key;
        return (await ParquetFiles.ReadAsync<MapRow>(Path.Combine(Cache.DirectoryOf(key), "maps.parquet"))).ToList();
    }

    async Task DegradeAsync(ResolvedMethod m, int shard, ArtifactWriter w)
    {
        var rows = await ShardImages(shard);
        var maps = await Maps(m, shard);
        var opts = new DegradeOptions(_c.Degrade.PatchSize, _c.Degrade.NPatches, _c.Quirks.SkipTopPatch, _c.Quirks.PositiveOnlyReplacement);
        var curves = new List<CurveRow>();
        int nb = (rows.Count + _c.BatchSize - 1) / _c.BatchSize;
        for (int b = 0; b < nb; b++)
        {
            using var scope = torch.NewDisposeScope();
            var batchRows = rows.Skip(b * _c.BatchSize).Take(_c.BatchSize).ToList();
            var batchMaps = maps.Skip(b * _c.BatchSize).Take(_c.BatchSize).ToList();
            var x = _track.ToInput(batchRows).to(_ctx.Device);
            var shape = x.shape;
            var mapT = torch.tensor(batchMaps.SelectMany(r => r.MapValues()).ToArray(), shape).to(_ctx.Device);
            var classes = torch.tensor(batchMaps.Select(r => (long)r.TargetClass).ToArray()).to(_ctx.Device);
            var ids = batchRows.Select(r => r.ImageId).ToArray();
            foreach (var orderName in _c.Degrade.Orders)
            {
                var order = orderName switch { "lerf" => DegradationOrder.Lerf, "random" => DegradationOrder.Random, _ => DegradationOrder.Morf };
                var ranking = PatchRanking.Order(mapT, _c.Degrade.PatchSize, order, _c.Quirks.SignedRanking, ids, _c.Seed);
                var c = Degrader.Curves(Net, x, classes, ranking, opts, _c.MemoryBudgetBytes);
                var flat = c.cpu().data<float>().ToArray();
                for (int i = 0; i < batchRows.Count; i++)
                    curves.Add(new CurveRow { ImageId = ids[i], TargetClass = batchMaps[i].TargetClass, Order = orderName, Curve = flat.AsSpan(i * opts.NPatches, opts.NPatches).ToArray() });
            }
            _ctx.Progress.Report($"degrade {m.Name}", shard * nb + b + 1, Shards.Count * nb, $"shard {shard + 1}/{Shards.Count}");
        }
        await w.WriteParquetAsync("curves.parquet", curves);
    }

    async Task PlotsAsync(ArtifactWriter w)
    {
        var results = new Dictionary<string, List<CurveRow>>();
        foreach (var m in _c.Methods)
        {
            var all = new List<CurveRow>();
            foreach (var u in Get($"Degrade:{m.Name}").Units)
                all.AddRange(await ParquetFiles.ReadAsync<CurveRow>(Path.Combine(Cache.DirectoryOf(u.Key), "curves.parquet")));
            results[m.Name] = all;
        }
        var grid = new List<(string Method, List<MapRow> Maps)>();
        foreach (var m in _c.Methods) grid.Add((m.Name, (await Maps(m, 0)).Take(_c.Plots.GridImages).ToList()));
        var gridImages = (await ShardImages(0)).Take(_c.Plots.GridImages).ToList();
        await Reports.WriteAsync(w, _c, _track, results, gridImages, grid);
    }
}
