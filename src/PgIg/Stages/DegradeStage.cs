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

    readonly Dictionary<string, IReadOnlyList<StageKey>> _keys = new(StringComparer.Ordinal);
    IReadOnlyList<StageKey> _randomKeys = [];
    ArtifactCache? _cache;

    /// <summary>A method's keys, one per shard.</summary>
    public IReadOnlyList<StageKey> KeysOf(ResolvedMethod m) => _keys[m.Name];
    /// <summary>The random order's keys, one per shard; empty unless degrade.orders lists random.</summary>
    public IReadOnlyList<StageKey> RandomOrderKeys => _randomKeys;

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
        var protocol = new
        {
            patch_size = c.Degrade.PatchSize, n_patches = c.Degrade.NPatches, engine = c.Degrade.Engine,
            skip_top_patch = c.Quirks.SkipTopPatch, positive_only_replacement = c.Quirks.PositiveOnlyReplacement,
        };
        var methodConfig = new { protocol, orders = ranked, signed_ranking = c.Quirks.SignedRanking };
        var code = Code(p, ranked);
        var result = new List<PlannedStage>();
        foreach (var m in c.Methods)
        {
            var keys = new List<StageKey>();
            var units = new List<StageUnit>();
            for (int i = 0; i < pre.Count; i++)
            {
                var upstream = new List<(string, StageKey)> { ("attribute", attribute.KeysOf(m)[i]), ("model", p.Model), ("preprocess", pre[i]) };
                var key = new StageKey("degrade", $"degrade:{m.Name}/shard-{i:0000}", code, methodConfig, upstream);
                keys.Add(key);
                int shard = i;
                units.Add(new StageUnit(key, upstream.Select(u => u.Item2).ToList(), w => DegradeAsync(p, m, ranked, shard, pre.Count, w)));
            }
            _keys[m.Name] = keys;
            result.Add(Planned(units, $"{Name}:{m.Name}"));
        }
        if (random)
        {
            // the random order ignores the maps: one set of curves for all methods, keyed without any method
            var config = new { protocol, orders = new[] { "random" }, seed = c.Seed };
            var randomCode = Code(p, ["random"]);
            _randomKeys = pre.Select((k, i) => new StageKey("degrade", $"degrade:random_order/shard-{i:0000}", randomCode, config,
                [("model", p.Model), ("preprocess", k)])).ToList();
            result.Add(Planned(_randomKeys.Select((k, i) => new StageUnit(k, [p.Model, pre[i], predict[i]], w => DegradeAsync(p, null, ["random"], i, pre.Count, w))).ToList(), RandomOrderStage));
        }
        return result;
    }

    /// <summary>The orders that rank patches by a method's map.</summary>
    static string[] RankedOrders(PgIg.Config.PipelineConfig c) => c.Degrade.Orders.Where(o => o != "random").ToArray();

    /// <summary>Curves of one shard for a method's map orders, or (method null) for the random order.</summary>
    static async Task DegradeAsync(PlanContext p, ResolvedMethod? m, IReadOnlyList<string> orders, int shard, int shards, ArtifactWriter w)
    {
        var c = p.Config;
        var rows = await p.Get<PreprocessStage>().ReadShardAsync(shard);
        var maps = m is null ? null : await p.Get<AttributeStage>().ReadMapsAsync(m, shard);
        var predictions = m is null ? await p.Get<PredictStage>().ReadAsync(shard) : null;
        var net = p.Net;
        var device = p.Run.Device;
        var opts = new DegradeOptions(c.Degrade.PatchSize, c.Degrade.NPatches, c.Quirks.SkipTopPatch, c.Quirks.PositiveOnlyReplacement);
        var curves = new List<CurveRow>();
        string label = m?.Name ?? "random_order";
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
            foreach (var orderName in orders)
            {
                var ranking = Ranking(orderName, x, mapT, c.Degrade.PatchSize, c.Quirks.SignedRanking, ids, c.Seed);
                var curve = Curves(c.Degrade.Engine)(net, x, classes, ranking, opts with { Insertion = orderName == "insertion" }, c.MemoryBudgetBytes);
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

    /// <summary>The code of a unit that runs <paramref name="orders"/>: its fingerprint probes the configured engine and protocol.</summary>
    static CodeId Code(PlanContext p, IReadOnlyList<string> orders)
    {
        var (c, q) = (p.Config, p.Config.Quirks);
        var opts = new DegradeOptions(4, 12, q.SkipTopPatch, q.PositiveOnlyReplacement);
        string id = $"degrade/{c.Degrade.Engine}/{string.Join(",", orders)}/skip={opts.SkipTopPatch},positive={opts.PositiveOnlyReplacement},signed={q.SignedRanking}";
        return new CodeId("degrade-v2", p.Run.Fingerprints.Of(id, d => Probe(d, c.Degrade.Engine, orders, opts, q.SignedRanking)));
    }

    /// <summary>Fingerprint probe: the probe batch degraded in 4×4 patches, 12 steps, ranked by fixed maps; rankings and curves.</summary>
    static void Probe(NumericDigest d, string engine, IReadOnlyList<string> orders, DegradeOptions opts, bool signed)
    {
        using var net = ProbeInput.Net();
        using var scope = torch.NewDisposeScope();
        var x = ProbeInput.Input();
        var maps = ProbeInput.Tensor("maps", x.shape);
        var ids = Enumerable.Range(10, (int)x.shape[0]).Select(i => (long)i).ToArray();
        foreach (var orderName in orders)
        {
            var ranking = Ranking(orderName, x, maps, opts.PatchSize, signed, ids, 7);
            d.AddExact($"{orderName}/ranking", ranking.data<long>().ToArray());
            d.Add($"{orderName}/curves", Curves(engine)(net, x, ProbeInput.Targets(), ranking, opts with { Insertion = orderName == "insertion" }, 64L << 20));
        }
    }

    /// <summary>The degradation engine the config names; both give the same curves (to float rounding).</summary>
    static Func<PgIg.Models.SequentialNet, Tensor, Tensor, Tensor, DegradeOptions, long, Tensor> Curves(string engine) =>
        engine == PgIg.Config.DegradeConfig.Full ? Degrader.Curves : IncrementalDegrader.Curves;

    /// <summary>A method's curves of one shard, or (method null) the random order's.</summary>
    public async Task<IList<CurveRow>> ReadCurvesAsync(ResolvedMethod? m, int shard) =>
        await ParquetFiles.ReadAsync<CurveRow>(Path.Combine(_cache!.DirectoryOf(m is null ? _randomKeys[shard] : _keys[m.Name][shard]), File));
}
