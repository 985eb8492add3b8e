using PgIg.Config;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Pipeline;
using PgIg.Tracks;

namespace PgIg.Stages;

/// <summary>
/// The pipeline for one config: the stages of <see cref="StageList"/> planned in order, so every unit's key is
/// known up front (for shards, once the Data stage has defined the evaluation set) and status, clean and skip
/// decisions need no computation. Running is the <see cref="UnitRunner"/>'s, status the <see cref="StatusReport"/>'s.
/// </summary>
public sealed class PipelinePlan
{
    /// <summary>The stage (group) names in order, as the Cake targets name them.</summary>
    public static IReadOnlyList<string> Groups { get; } = StageList.Create().Select(s => s.Name).ToList();

    readonly PlanContext _p;
    readonly List<PlannedStage> _stages = new();
    readonly UnitRunner _runner;

    public PipelinePlan(PipelineConfig config, ITrack track, StageContext ctx)
    {
        _p = new PlanContext(config, track, ctx);
        foreach (var stage in StageList.Create())
        {
            _p.Add(stage);
            var planned = stage.Plan(_p);
            _stages.AddRange(planned);
            _p.Record(planned);
        }
        _runner = new UnitRunner(ctx.Cache, _stages, ctx.Log, _p.ReleaseStages);
    }

    public PipelineConfig Config => _p.Config;
    public ITrack Track => _p.Track;
    public ArtifactCache Cache => _p.Cache;
    public IReadOnlyList<PlannedStage> Stages => _stages;
    /// <summary>Evaluation images in selection order; null until the Data stage has run.</summary>
    public IReadOnlyList<ValImage>? Images => _p.Get<DataStage>().Images;
    public IReadOnlyList<IReadOnlyList<ValImage>> Shards => _p.Get<DataStage>().Shards;
    public StageKey DataKey => _p.Get<DataStage>().Key;
    public StageKey ModelKey => _p.Model;
    public StageKey? PatternsKey => _p.Get<PatternsStage>().Key;
    public IReadOnlyList<StageKey> FetchKeys => Get("Fetch").Units.Select(u => u.Key).ToList();
    public StageKey? PlotsKey => _p.Get<PlotsStage>().Key;

    /// <summary>A planned stage, for its keys and the readers of its artifacts.</summary>
    public T Stage<T>() where T : Stage => _p.Get<T>();

    /// <summary>A fresh CPU copy of the model from its artifact (the caller owns it).</summary>
    public SequentialNet LoadModel() => _p.LoadModel();
    /// <summary>The patterns checked against <paramref name="net"/> (the caller owns them).</summary>
    public PatternSet LoadPatterns(SequentialNet net) => _p.Get<PatternsStage>().Load(net);

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

    /// <summary>Runs every unit of a stage (or one shard) and whatever they need, transitively.</summary>
    /// <param name="requireCached">Fail with <see cref="NotCachedException"/> instead of computing anything.</param>
    public Task<(int Computed, int Cached)> RunAsync(string stageName, int? shard = null, bool requireCached = false)
    {
        var stage = Get(stageName);
        if (!stage.Known)
            throw new InvalidOperationException($"stage {stage.Name} needs the evaluation set; run the Data stage first");
        var units = shard is null ? stage.Units : stage.Units.Where(u => u.Key.Slot.EndsWith($"/shard-{shard:0000}", StringComparison.Ordinal)).ToList();
        if (shard is not null && units.Count == 0)
            throw new ArgumentException(stage.Units.Any(u => u.Key.Slot.Contains("/shard-", StringComparison.Ordinal))
                ? $"stage {stage.Name} has no shard {shard}; its shards are 0–{stage.Units.Count - 1}"
                : $"stage {stage.Name} is not sharded; run it without --shard");
        return _runner.RunAsync(units, requireCached);
    }

    public IReadOnlyList<StageStatus> Status(bool verifyContent = false) => StatusReport.Of(_stages, Cache, verifyContent);

    /// <summary>The shard index of a unit (…/shard-0003 → 3), or null for a unit every worker shares.</summary>
    public static int? ShardOf(StageUnit u)
    {
        int at = u.Key.Slot.LastIndexOf("/shard-", StringComparison.Ordinal);
        return at < 0 ? null : int.Parse(u.Key.Slot.AsSpan(at + "/shard-".Length), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// What worker <paramref name="worker"/> of <paramref name="workers"/> computes for a target: in every stage up
    /// to it, the units whose shard index ≡ worker (mod workers). Unsharded upstream units (data, model, patterns)
    /// come with them as needs: whichever worker reaches one first computes it under its lock, the others wait and
    /// take it from the cache. Aggregates after the shards (Plots) are not a worker's: they run once the workers are done.
    /// A target without shards (Data, Train, Patterns) is computed by every worker in the same way.
    /// </summary>
    public IReadOnlyList<StageUnit> WorkerUnits(string target, int worker, int workers)
    {
        if (workers < 1) throw new ArgumentException($"--worker {worker}/{workers}: the number of workers must be at least 1");
        if (worker < 0 || worker >= workers) throw new ArgumentException($"--worker {worker}/{workers}: the worker index must be 0…{workers - 1}");
        var targets = Resolve(target);
        int last = targets.Max(t => GroupIndex(t.Group));
        var selected = _stages.Where(s => GroupIndex(s.Group) < last).Concat(targets).Distinct().ToList();
        var sharded = selected.SelectMany(s => s.Units).Where(u => ShardOf(u) is { } i && i % workers == worker).ToList();
        if (selected.SelectMany(s => s.Units).Any(u => ShardOf(u) is not null)) return sharded;
        return targets.SelectMany(s => s.Units).ToList();
    }

    static int GroupIndex(string group) => Groups.ToList().IndexOf(group);

    /// <summary>Runs a worker's units (see <see cref="WorkerUnits"/>).</summary>
    public Task<(int Computed, int Cached)> RunWorkerAsync(string target, int worker, int workers, bool requireCached = false)
    {
        var stage = Resolve(target);
        if (stage.Any(s => !s.Known))
            throw new InvalidOperationException($"stage {target} needs the evaluation set; run the Data stage first");
        return _runner.RunAsync(WorkerUnits(target, worker, workers), requireCached);
    }
}
