using PgIg.Config;
using PgIg.Degradation;
using PgIg.Methods;
using PgIg.Models;
using PgIg.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Stages;

/// <summary>
/// Degrade: per method and shard, each image's curve of p(target class) as its patches are replaced in the
/// order its map ranks them (MoRF, LeRF) or at random (spec §7.3); insertion restores them, most relevant first, into
/// the fully degraded image.
/// </summary>
public sealed class DegradeStage : Stage
{
    public override string Name => "Degrade";

    const string File = "curves.parquet";

    /// <summary>The stage of the method-independent random order, one per config (reported as random_order).</summary>
    public const string RandomOrderStage = "Degrade:random_order";

    // per replacement (mean, road): a method's keys, and the random order's
    readonly Dictionary<(string Method, string Replacement), IReadOnlyList<StageKey>> _keys = new();
    readonly Dictionary<string, IReadOnlyList<StageKey>> _randomKeys = new(StringComparer.Ordinal);
    ArtifactCache? _cache;

    /// <summary>A method's keys under a replacement, one per shard.</summary>
    public IReadOnlyList<StageKey> KeysOf(ResolvedMethod m, string replacement = DegradeConfig.Mean) => _keys[(m.Name, replacement)];
    /// <summary>The random order's keys under a replacement, one per shard; empty unless degrade.orders lists random.</summary>
    public IReadOnlyList<StageKey> RandomOrderKeysOf(string replacement) => _randomKeys.GetValueOrDefault(replacement) ?? [];
    /// <summary>The random order's keys under mean replacement.</summary>
    public IReadOnlyList<StageKey> RandomOrderKeys => RandomOrderKeysOf(DegradeConfig.Mean);

    /// <summary>The replacement a Degrade unit computes, from its slot (road units' slots carry <c>/road/</c>).</summary>
    public static string ReplacementOf(StageKey key) => key.Slot.Contains("/road/", StringComparison.Ordinal) ? DegradeConfig.Road : DegradeConfig.Mean;

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        var c = p.Config;
        bool random = c.Degrade.Orders.Contains("random");
        if (p.Get<DataStage>().Images is null)
            return c.Methods.Select(m => NotYetKnown($"{Name}:{m.Name}")).Concat(random ? [NotYetKnown(RandomOrderStage)] : []).ToList();
        _cache = p.Cache;
        var pre = p.Get<PreprocessStage>().Keys;
        var predict = p.Get<PredictStage>().Keys;
        var attribute = p.Get<AttributeStage>();
        var ranked = RankedOrders(c);
        var methodUnits = c.Methods.ToDictionary(m => m.Name, _ => new List<StageUnit>());
        var randomUnits = new List<StageUnit>();
        foreach (var replacement in c.Degrade.Replacements)
        {
            bool road = replacement == DegradeConfig.Road;
            // mean: the original's key, unchanged; road: B2 (a quirk of the mean replacement) leaves it, the imputation enters
            object protocol = road
                ? new { patch_size = c.Degrade.PatchSize, n_patches = c.Degrade.NPatches, engine = c.Degrade.Engine, skip_top_patch = c.Quirks.SkipTopPatch }
                : new
                {
                    patch_size = c.Degrade.PatchSize, n_patches = c.Degrade.NPatches, engine = c.Degrade.Engine,
                    skip_top_patch = c.Quirks.SkipTopPatch, positive_only_replacement = c.Quirks.PositiveOnlyReplacement,
                };
            var roadKey = new { replacement = "road-noisy-linear", road_noise = c.Degrade.RoadNoise, noise_seed = c.Seed };
            object methodConfig = road
                ? new { protocol, orders = ranked, signed_ranking = c.Quirks.SignedRanking, road = roadKey }
                : new { protocol, orders = ranked, signed_ranking = c.Quirks.SignedRanking };
            string family = road ? "/road" : "";
            var code = Code(p, ranked, road);
            foreach (var m in c.Methods)
            {
                var keys = new List<StageKey>();
                for (int i = 0; i < pre.Count; i++)
                {
                    var upstream = new List<(string, StageKey)> { ("attribute", attribute.KeysOf(m)[i]), ("model", p.Model), ("preprocess", pre[i]) };
                    var key = new StageKey("degrade", $"degrade:{m.Name}{family}/shard-{i:0000}", code, methodConfig, upstream);
                    keys.Add(key);
                    int shard = i;
                    methodUnits[m.Name].Add(new StageUnit(key, upstream.Select(u => u.Item2).ToList(), w => DegradeAsync(p, m, ranked, replacement, shard, pre.Count, w)));
                }
                _keys[(m.Name, replacement)] = keys;
            }
            if (random)
            {
                // the random order ignores the maps: one set of curves for all methods, keyed without any method
                object config = road ? new { protocol, orders = new[] { "random" }, seed = c.Seed, road = roadKey } : new { protocol, orders = new[] { "random" }, seed = c.Seed };
                var randomCode = Code(p, ["random"], road);
                var keys = pre.Select((k, i) => new StageKey("degrade", $"degrade:random_order{family}/shard-{i:0000}", randomCode, config,
                    [("model", p.Model), ("preprocess", k)])).ToList();
                _randomKeys[replacement] = keys;
                randomUnits.AddRange(keys.Select((k, i) => new StageUnit(k, [p.Model, pre[i], predict[i]], w => DegradeAsync(p, null, ["random"], replacement, i, pre.Count, w))));
            }
        }
        // Degrade:<method> holds every replacement's units of the method (mean first, as listed)
        var result = c.Methods.Select(m => Planned(methodUnits[m.Name], $"{Name}:{m.Name}")).ToList();
        if (random) result.Add(Planned(randomUnits, RandomOrderStage));
        return result;
    }

    /// <summary>Code version of the ROAD units' keys.</summary>
    const string RoadCodeVersion = "degrade-road-v1";

    /// <summary>The orders that rank patches by a method's map.</summary>
    static string[] RankedOrders(PipelineConfig c) => c.Degrade.Orders.Where(o => o != "random").ToArray();

    /// <summary>Curves of one shard for a method's map orders, or (method null) for the random order.</summary>
    static async Task DegradeAsync(PlanContext p, ResolvedMethod? m, IReadOnlyList<string> orders, string replacement, int shard, int shards, ArtifactWriter w)
    {
        var c = p.Config;
        var rows = await p.Get<PreprocessStage>().ReadShardAsync(shard);
        var maps = m is null ? null : await p.Get<AttributeStage>().ReadMapsAsync(m, shard);
        var predictions = m is null ? await p.Get<PredictStage>().ReadAsync(shard) : null;
        var net = p.Net;
        var device = p.Run.Device;
        var opts = new DegradeOptions(c.Degrade.PatchSize, c.Degrade.NPatches, c.Quirks.SkipTopPatch, c.Quirks.PositiveOnlyReplacement);
        var curves = new List<CurveRow>();
        string label = (m?.Name ?? "random_order") + DegradeConfig.Suffix(replacement);
        bool road = replacement == DegradeConfig.Road;
        // ROAD's noise is given for a [0, 1] pixel; in input units it is that times the input's range per channel
        var noiseScale = road ? RoadNoise.ChannelScale(p.Track, rows[0], c.Degrade.RoadNoise) : null;
        int nb = (rows.Count + c.BatchSize - 1) / c.BatchSize;
        for (int b = 0; b < nb; b++)
        {
            using var scope = torch.NewDisposeScope();
            var batchRows = rows.Skip(b * c.BatchSize).Take(c.BatchSize).ToList();
            var x = p.Track.ToInput(batchRows).to(device);
            var ids = batchRows.Select(r => r.ImageId).ToArray();
            // the class each curve follows: the one the map explains, or (random order) the clean prediction
            long[] targets = maps is not null
                ? maps.Skip(b * c.BatchSize).Take(c.BatchSize).Select(r => (long)r.TargetClass).ToArray()
                : predictions!.Skip(b * c.BatchSize).Take(c.BatchSize).Select(r => (long)r.TargetClass).ToArray();
            var classes = torch.tensor(targets).to(device);
            var mapT = maps is null ? null
                : torch.tensor(maps.Skip(b * c.BatchSize).Take(c.BatchSize).SelectMany(r => r.MapValues()).ToArray(), x.shape).to(device);
            // one noise field per image, drawn from (seed, image id): the same whatever the batch, shard, order or method
            var noise = road ? RoadNoise.Fields(x, ids, c.Seed, noiseScale!) : null;
            foreach (var orderName in orders)
            {
                var ranking = Ranking(orderName, x, mapT, c.Degrade.PatchSize, c.Quirks.SignedRanking, ids, c.Seed);
                var o = opts with { Insertion = orderName == "insertion", RoadNoise = noise };
                var curve = Curves(c.Degrade.Engine)(net, x, classes, ranking, o, c.MemoryBudgetBytes);
                var flat = curve.cpu().data<float>().ToArray();
                for (int i = 0; i < batchRows.Count; i++)
                    curves.Add(new CurveRow { ImageId = ids[i], TargetClass = (int)targets[i], Order = orderName, Curve = flat.AsSpan(i * opts.NPatches, opts.NPatches).ToArray() });
            }
            p.Run.Progress.Report($"degrade {label}", shard * nb + b + 1, shards * nb, $"shard {shard + 1}/{shards}");
        }
        await w.WriteParquetAsync(File, curves);
    }

    /// <summary>Each image's patches in the order <paramref name="orderName"/> removes them (insertion restores them in the MoRF
    /// order, backwards from the degraded image; random ignores the maps).</summary>
    static Tensor Ranking(string orderName, Tensor x, Tensor? maps, int patchSize, bool signed, long[] ids, long seed)
    {
        var order = orderName switch { "lerf" => DegradationOrder.Lerf, "random" => DegradationOrder.Random, _ => DegradationOrder.Morf };
        return order == DegradationOrder.Random
            ? PatchRanking.RandomOrder(x.shape[0], PatchRanking.PatchCount(x, patchSize), ids, seed, x.device)
            : PatchRanking.Order(maps!, patchSize, order, signed, ids, seed);
    }

    /// <summary>The code of a unit that runs <paramref name="orders"/> under mean or ROAD replacement: its fingerprint probes
    /// the configured engine and protocol (for ROAD the imputation and its noise field too).</summary>
    static CodeId Code(PlanContext p, IReadOnlyList<string> orders, bool road)
    {
        var (c, q) = (p.Config, p.Config.Quirks);
        // B2 concerns the mean replacement only; a road unit's code does not depend on it
        var opts = new DegradeOptions(4, 12, q.SkipTopPatch, !road && q.PositiveOnlyReplacement);
        string id = $"degrade/{c.Degrade.Engine}/{string.Join(",", orders)}/skip={opts.SkipTopPatch},positive={opts.PositiveOnlyReplacement},signed={q.SignedRanking}{(road ? "/road" : "")}";
        return new CodeId(road ? RoadCodeVersion : "degrade-v2", p.Run.Fingerprints.Of(id, d => Probe(d, c.Degrade.Engine, orders, opts, q.SignedRanking, road)));
    }

    /// <summary>Fingerprint probe: the probe batch degraded in 4×4 patches, 12 steps, ranked by fixed maps; rankings and curves
    /// (ROAD: with a noise field of 0.05 input units drawn as the stage draws it).</summary>
    static void Probe(NumericDigest d, string engine, IReadOnlyList<string> orders, DegradeOptions opts, bool signed, bool road)
    {
        using var net = ProbeInput.Net();
        using var scope = torch.NewDisposeScope();
        var x = ProbeInput.Input();
        var maps = ProbeInput.Tensor("maps", x.shape);
        var ids = Enumerable.Range(10, (int)x.shape[0]).Select(i => (long)i).ToArray();
        var noise = road ? RoadNoise.Fields(x, ids, 7, Enumerable.Repeat(0.05, (int)x.shape[1]).ToArray()) : null;
        if (noise is not null) d.Add("road/noise", noise);
        foreach (var orderName in orders)
        {
            var ranking = Ranking(orderName, x, maps, opts.PatchSize, signed, ids, 7);
            d.AddExact($"{orderName}/ranking", ranking.data<long>().ToArray());
            d.Add($"{orderName}/curves", Curves(engine)(net, x, ProbeInput.Targets(), ranking, opts with { Insertion = orderName == "insertion", RoadNoise = noise }, 64L << 20));
        }
    }

    /// <summary>The degradation engine the config names; both give the same curves (to float rounding).</summary>
    static Func<PgIg.Models.SequentialNet, Tensor, Tensor, Tensor, DegradeOptions, long, Tensor> Curves(string engine) =>
        engine == PgIg.Config.DegradeConfig.Full ? Degrader.Curves : IncrementalDegrader.Curves;

    /// <summary>A method's curves of one shard, or (method null) the random order's.</summary>
    public async Task<IList<CurveRow>> ReadCurvesAsync(ResolvedMethod? m, int shard, string replacement = DegradeConfig.Mean) =>
        await ParquetFiles.ReadAsync<CurveRow>(Path.Combine(_cache!.DirectoryOf(m is null ? _randomKeys[replacement][shard] : _keys[(m.Name, replacement)][shard]), File));
}
