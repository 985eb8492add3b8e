using PgIg.Degradation;
using PgIg.Methods;
using PgIg.Pipeline;
using TorchSharp;

namespace PgIg.Stages;

/// <summary>
/// Degrade: per method and shard, each image's curve of p(target class) as its patches are replaced in the
/// order its map ranks them (MoRF, LeRF) or at random (spec §7.3).
/// </summary>
public sealed class DegradeStage : Stage
{
    public override string Name => "Degrade";

    const string File = "curves.parquet";

    readonly Dictionary<string, IReadOnlyList<StageKey>> _keys = new(StringComparer.Ordinal);
    ArtifactCache? _cache;

    /// <summary>A method's keys, one per shard.</summary>
    public IReadOnlyList<StageKey> KeysOf(ResolvedMethod m) => _keys[m.Name];

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        var c = p.Config;
        if (p.Get<DataStage>().Images is null) return c.Methods.Select(m => NotYetKnown($"{Name}:{m.Name}")).ToList();
        _cache = p.Cache;
        var pre = p.Get<PreprocessStage>().Keys;
        var attribute = p.Get<AttributeStage>();
        var config = new
        {
            patch_size = c.Degrade.PatchSize, n_patches = c.Degrade.NPatches, orders = c.Degrade.Orders,
            skip_top_patch = c.Quirks.SkipTopPatch, positive_only_replacement = c.Quirks.PositiveOnlyReplacement,
            signed_ranking = c.Quirks.SignedRanking, seed = c.Seed,
        };
        var result = new List<PlannedStage>();
        foreach (var m in c.Methods)
        {
            var keys = new List<StageKey>();
            var units = new List<StageUnit>();
            for (int i = 0; i < pre.Count; i++)
            {
                var upstream = new List<(string, StageKey)> { ("attribute", attribute.KeysOf(m)[i]), ("model", p.Model), ("preprocess", pre[i]) };
                var key = new StageKey("degrade", $"degrade:{m.Name}/shard-{i:0000}", "degrade-v1", config, upstream);
                keys.Add(key);
                int shard = i;
                units.Add(new StageUnit(key, upstream.Select(u => u.Item2).ToList(), w => DegradeAsync(p, m, shard, pre.Count, w)));
            }
            _keys[m.Name] = keys;
            result.Add(Planned(units, $"{Name}:{m.Name}"));
        }
        return result;
    }

    static async Task DegradeAsync(PlanContext p, ResolvedMethod m, int shard, int shards, ArtifactWriter w)
    {
        var c = p.Config;
        var rows = await p.Get<PreprocessStage>().ReadShardAsync(shard);
        var maps = await p.Get<AttributeStage>().ReadMapsAsync(m, shard);
        var net = p.Net;
        var device = p.Run.Device;
        var opts = new DegradeOptions(c.Degrade.PatchSize, c.Degrade.NPatches, c.Quirks.SkipTopPatch, c.Quirks.PositiveOnlyReplacement);
        var curves = new List<CurveRow>();
        int nb = (rows.Count + c.BatchSize - 1) / c.BatchSize;
        for (int b = 0; b < nb; b++)
        {
            using var scope = torch.NewDisposeScope();
            var batchRows = rows.Skip(b * c.BatchSize).Take(c.BatchSize).ToList();
            var batchMaps = maps.Skip(b * c.BatchSize).Take(c.BatchSize).ToList();
            var x = p.Track.ToInput(batchRows).to(device);
            var shape = x.shape;
            var mapT = torch.tensor(batchMaps.SelectMany(r => r.MapValues()).ToArray(), shape).to(device);
            var classes = torch.tensor(batchMaps.Select(r => (long)r.TargetClass).ToArray()).to(device);
            var ids = batchRows.Select(r => r.ImageId).ToArray();
            foreach (var orderName in c.Degrade.Orders)
            {
                var order = orderName switch { "lerf" => DegradationOrder.Lerf, "random" => DegradationOrder.Random, _ => DegradationOrder.Morf };
                var ranking = PatchRanking.Order(mapT, c.Degrade.PatchSize, order, c.Quirks.SignedRanking, ids, c.Seed);
                var curve = Degrader.Curves(net, x, classes, ranking, opts, c.MemoryBudgetBytes);
                var flat = curve.cpu().data<float>().ToArray();
                for (int i = 0; i < batchRows.Count; i++)
                    curves.Add(new CurveRow { ImageId = ids[i], TargetClass = batchMaps[i].TargetClass, Order = orderName, Curve = flat.AsSpan(i * opts.NPatches, opts.NPatches).ToArray() });
            }
            p.Run.Progress.Report($"degrade {m.Name}", shard * nb + b + 1, shards * nb, $"shard {shard + 1}/{shards}");
        }
        await w.WriteParquetAsync(File, curves);
    }

    /// <summary>A method's curves of one shard.</summary>
    public async Task<IList<CurveRow>> ReadCurvesAsync(ResolvedMethod m, int shard) =>
        await ParquetFiles.ReadAsync<CurveRow>(Path.Combine(_cache!.DirectoryOf(_keys[m.Name][shard]), File));
}
