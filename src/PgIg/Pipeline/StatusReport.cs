namespace PgIg.Pipeline;

/// <summary>Each stage as fresh, stale or missing, by comparing its units' keys with the cache's manifests, and how many
/// of its missing units are being computed now.</summary>
public static class StatusReport
{
    public static IReadOnlyList<StageStatus> Of(IReadOnlyList<PlannedStage> stages, ArtifactCache cache)
    {
        var result = new List<StageStatus>();
        var bySlot = new Dictionary<string, Dictionary<string, List<Manifest>>>();
        foreach (var s in stages)
        {
            if (!s.Known) { result.Add(new StageStatus(s.Name, Freshness.Missing, 0, 0, "waits for the Data stage (evaluation set unknown)")); continue; }
            if (s.Units.Count == 0) { result.Add(new StageStatus(s.Name, Freshness.Fresh, 0, 0, "nothing to do for this config")); continue; }
            int fresh = 0, running = 0; string? reason = null; bool anyPrevious = false;
            foreach (var u in s.Units)
            {
                var check = cache.Check(u.Key, verifyContent: false);
                if (check.Status == CacheStatus.Fresh) { fresh++; continue; }
                // a computing process holds the key's lock until it has published, wherever it runs (cluster workers)
                if (FileLock.IsHeld(ArtifactCache.LockPath(Path.Combine(cache.Root, u.Key.Stage), u.Key.Hash))) running++;
                if (!bySlot.TryGetValue(u.Key.Stage, out var map))
                    bySlot[u.Key.Stage] = map = cache.Manifests(u.Key.Stage).Select(x => x.Manifest).GroupBy(m => m.Slot).ToDictionary(g => g.Key, g => g.ToList());
                var why = check.Status == CacheStatus.Invalid ? $"invalid artifact: {check.Reason}" : cache.StaleReason(u.Key, map);
                if (why is not null) { anyPrevious = true; reason ??= $"{u.Key.Slot}: {why}"; }
            }
            var state = fresh == s.Units.Count ? Freshness.Fresh : anyPrevious ? Freshness.Stale : Freshness.Missing;
            result.Add(new StageStatus(s.Name, state, fresh, s.Units.Count, state == Freshness.Fresh ? null : reason, running));
        }
        return result;
    }
}
