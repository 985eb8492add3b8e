namespace PgIg.Pipeline;

/// <summary>Each stage as fresh, stale or missing, by comparing its units' keys with the cache's manifests, and how many
/// of its missing units are being computed now.</summary>
public static class StatusReport
{
    /// <param name="verifyContent">Hash every file (slow on large artifacts) instead of trusting unchanged size and mtime.</param>
    public static IReadOnlyList<StageStatus> Of(IReadOnlyList<PlannedStage> stages, ArtifactCache cache, bool verifyContent = false)
    {
        var result = new List<StageStatus>();
        var bySlot = new Dictionary<string, Dictionary<string, List<Manifest>>>();
        foreach (var s in stages)
        {
            if (!s.Known) { result.Add(new StageStatus(s.Name, Freshness.Missing, 0, 0, "waits for the Data stage (evaluation set unknown)")); continue; }
            if (s.Units.Count == 0) { result.Add(new StageStatus(s.Name, Freshness.Fresh, 0, 0, "nothing to do for this config")); continue; }
            int fresh = 0, running = 0, missing = 0; string? reason = null, firstMissing = null; bool anyPrevious = false;
            foreach (var u in s.Units)
            {
                var check = cache.Check(u.Key, verifyContent);
                if (check.Status == CacheStatus.Fresh) { fresh++; continue; }
                // a computing process holds the key's lock until it has published, wherever it runs (cluster workers)
                if (FileLock.IsHeld(ArtifactCache.LockPath(Path.Combine(cache.Root, u.Key.Stage), u.Key.Hash))) running++;
                if (!bySlot.TryGetValue(u.Key.Stage, out var map))
                    bySlot[u.Key.Stage] = map = cache.Manifests(u.Key.Stage).Select(x => x.Manifest).GroupBy(m => m.Slot).ToDictionary(g => g.Key, g => g.ToList());
                var why = check.Status == CacheStatus.Invalid ? $"invalid artifact: {check.Reason}" : cache.StaleReason(u.Key, map);
                if (why is not null) { anyPrevious = true; reason ??= $"{u.Key.Slot}: {why}"; }
                else { missing++; firstMissing ??= u.Key.Slot; }
            }
            // a new method or new shards have no earlier artifact to compare with: say so instead of nothing
            if (missing > 0)
            {
                string notYet = missing == s.Units.Count ? $"not computed yet ({missing} unit{(missing == 1 ? "" : "s")})"
                    : $"{missing} unit{(missing == 1 ? "" : "s")} not computed yet, e.g. {firstMissing}";
                reason = reason is null ? notYet : $"{reason}; {notYet}";
            }
            var state = fresh == s.Units.Count ? Freshness.Fresh : anyPrevious ? Freshness.Stale : Freshness.Missing;
            result.Add(new StageStatus(s.Name, state, fresh, s.Units.Count, state == Freshness.Fresh ? null : reason, running));
        }
        return result;
    }
}
