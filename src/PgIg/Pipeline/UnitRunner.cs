using System.Diagnostics;

namespace PgIg.Pipeline;

/// <summary>
/// Runs units: each after every unit it needs, transitively; a unit whose artifact is valid in the cache is
/// taken from there. Knows nothing of what a unit computes.
/// </summary>
public sealed class UnitRunner(ArtifactCache cache, IReadOnlyList<PlannedStage> stages, Action<string> log)
{
    readonly Dictionary<string, StageUnit> _unitsByHash = stages.SelectMany(s => s.Units).GroupBy(u => u.Key.Hash).ToDictionary(g => g.Key, g => g.First());

    /// <summary>
    /// Runs the given units of a stage after making sure each unit they depend on, transitively, is valid:
    /// like the Cake build, every upstream stage is checked, not only missing ones.
    /// </summary>
    /// <param name="requireCached">Fail with <see cref="NotCachedException"/> instead of computing anything.</param>
    public async Task<(int Computed, int Cached)> RunAsync(IReadOnlyList<StageUnit> units, bool requireCached = false)
    {
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
        var upstream = stages.SelectMany(s => s.Units).Where(u => closure.Contains(u.Key.Hash)).ToList();
        if (requireCached)
        {
            var notFresh = upstream.Concat(units).FirstOrDefault(u => cache.Check(u.Key, verifyContent: false).Status != CacheStatus.Fresh);
            if (notFresh is not null)
                throw new NotCachedException($"{notFresh.Key.Slot} would be computed, but --require-cached was given");
        }
        // a unit of the set may also be an upstream need of another (a worker's Attribute shard of its Degrade
        // shard): it counts as computed when this call computed it, whichever pass did
        var computedNow = new HashSet<string>(StringComparer.Ordinal);
        foreach (var up in upstream) await EnsureAsync(up, computedNow);
        foreach (var u in units) await EnsureAsync(u, computedNow);
        int computed = units.Count(u => computedNow.Contains(u.Key.Hash));
        return (computed, units.Count - computed);
    }

    async Task EnsureAsync(StageUnit unit, HashSet<string> computedNow)
    {
        if (cache.Check(unit.Key).Status == CacheStatus.Fresh) { cache.Log.Append(unit.Key, "cached"); return; }
        foreach (var need in unit.Needs)
        {
            if (!_unitsByHash.TryGetValue(need.Hash, out var up))
                throw new InvalidOperationException($"{unit.Key.Slot} needs {need.Slot}, which this plan does not produce");
            await EnsureAsync(up, computedNow);
        }
        var sw = Stopwatch.StartNew();
        var (_, computed) = await cache.GetOrComputeAsync(unit.Key, unit.Compute, log);
        if (computed) { log($"computed {unit.Key} in {sw.Elapsed.TotalSeconds:0.0}s"); computedNow.Add(unit.Key.Hash); }
    }
}
