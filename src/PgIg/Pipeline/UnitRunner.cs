using System.Diagnostics;

namespace PgIg.Pipeline;

/// <summary>
/// Runs units: each after every unit it needs, transitively; a unit whose artifact is valid in the cache is
/// taken from there. Knows nothing of what a unit computes.
/// </summary>
/// <param name="stageDone">Called when a run moves on from a stage in which it computed something, and at its end:
/// what the stage kept for its units can be let go before the next stage's peak.</param>
public sealed class UnitRunner(ArtifactCache cache, IReadOnlyList<PlannedStage> stages, Action<string> log, Action? stageDone = null)
{
    readonly Dictionary<string, string> _stageOf = stages.SelectMany(s => s.Units.Select(u => (u.Key.Hash, s.Name))).GroupBy(x => x.Hash).ToDictionary(g => g.Key, g => g.First().Name);

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
        // a unit whose input is missing does not stop the others: what does not depend on it still runs, and
        // every missing input is reported at once (weights and patterns, not one after the other)
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<Exception>();
        int computed = 0, cached = 0;
        var targets = units.Select(u => u.Key.Hash).ToHashSet(StringComparer.Ordinal);
        string? stage = null;
        bool stageComputed = false;
        try
        {
            foreach (var u in upstream.Concat(units.Where(u => !closure.Contains(u.Key.Hash))))
            {
                var next = _stageOf[u.Key.Hash];
                if (next != stage && stageComputed) { stageDone?.Invoke(); stageComputed = false; }
                stage = next;
                if (u.Needs.Any(n => failed.Contains(n.Hash))) { failed.Add(u.Key.Hash); continue; }
                try
                {
                    bool done = await EnsureAsync(u);
                    stageComputed |= done;
                    if (targets.Contains(u.Key.Hash)) { if (done) computed++; else cached++; }
                }
                catch (Exception e) when (IsInputProblem(e))
                {
                    failed.Add(u.Key.Hash);
                    problems.Add(e);
                }
            }
        }
        finally { if (stageComputed) stageDone?.Invoke(); }
        if (problems.Count == 1) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(problems[0]).Throw();
        if (problems.Count > 1) throw new InputProblemsException(problems.Select(p => p.Message).ToList());
        return (computed, cached);
    }

    static bool IsInputProblem(Exception e) => e is IInputProblem or FileNotFoundException or DirectoryNotFoundException or HttpRequestException;

    /// <summary>Units found valid earlier in this run: if one is gone later, something removed it meanwhile.</summary>
    readonly HashSet<string> _seenValid = new(StringComparer.Ordinal);

    async Task<bool> EnsureAsync(StageUnit unit)
    {
        var check = cache.Check(unit.Key);
        if (check.Status == CacheStatus.Fresh) { _seenValid.Add(unit.Key.Hash); cache.Log.Append(unit.Key, "cached"); return false; }
        if (_seenValid.Contains(unit.Key.Hash))
            log($"{unit.Key.Slot} was valid earlier in this run but is now {(check.Status == CacheStatus.Missing ? "gone (removed by another process, e.g. pgig clean without a lease)" : $"damaged ({check.Reason})")}; recomputing it");
        foreach (var need in unit.Needs)
        {
            if (!_unitsByHash.TryGetValue(need.Hash, out var up))
                throw new InvalidOperationException($"{unit.Key.Slot} needs {need.Slot}, which this plan does not produce");
            await EnsureAsync(up);
        }
        var sw = Stopwatch.StartNew();
        var (_, computed) = await cache.GetOrComputeAsync(unit.Key, unit.Compute, log);
        if (computed) log($"computed {unit.Key} in {sw.Elapsed.TotalSeconds:0.0}s");
        return computed;
    }
}
