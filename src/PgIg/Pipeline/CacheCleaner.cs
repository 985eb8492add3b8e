namespace PgIg.Pipeline;

/// <summary>Removes artifacts the current plan does not reference (or everything), never a running job's files.</summary>
public static class CacheCleaner
{
    /// <param name="inUse">Temporary directories skipped because a running pgig process is writing them.</param>
    public static (int Kept, int Removed, long Bytes, int InUse) RemoveUnreferenced(ArtifactCache cache, IEnumerable<StageKey> keep) =>
        RemoveUnreferenced(cache.Root, keep.Select(k => Path.Combine(k.Stage, k.Hash)).ToHashSet(StringComparer.Ordinal));

    /// <param name="keep">"&lt;stage&gt;/&lt;key&gt;" paths to keep.</param>
    public static (int Kept, int Removed, long Bytes, int InUse) RemoveUnreferenced(string root, IReadOnlySet<string> keep)
    {
        // artifacts a running pgig process (any config) will still read are not this clean's to remove
        var leased = RunLease.Held(root);
        if (leased.Count > 0) keep = keep.Union(leased).ToHashSet(StringComparer.Ordinal);
        int kept = 0, removed = 0, inUse = 0; long bytes = 0;
        if (!Directory.Exists(root)) return (0, 0, 0, 0);
        foreach (var stageDir in Directory.GetDirectories(root))
        {
            var stage = Path.GetFileName(stageDir);
            if (stage is "downloads" or Fingerprints.DirectoryName or RunLease.DirectoryName) continue; // downloaded inputs are kept: they are expensive to fetch again
            foreach (var d in Directory.GetDirectories(stageDir))
            {
                var name = Path.GetFileName(d);
                if (name == ".locks") continue;
                if (keep.Contains(Path.Combine(stage, name))) { kept++; continue; }
                if (BeingWritten(stageDir, name)) { inUse++; continue; }
                bytes += new DirectoryInfo(d).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
                Directory.Delete(d, true);
                removed++;
            }
        }
        return (kept, removed, bytes, inUse);
    }

    /// <summary>Temporary directories that no running process is writing: leftovers of interrupted runs.</summary>
    public static int Leftovers(string root) => !Directory.Exists(root) ? 0 : Directory.GetDirectories(root)
        .Sum(stageDir => Directory.GetDirectories(stageDir).Select(Path.GetFileName)
            .Count(n => ArtifactCache.KeyPrefixOfTmp(n!) is not null && !BeingWritten(stageDir, n!)));

    /// <summary>True for a temporary directory whose key's lock some process holds (it is being written).</summary>
    static bool BeingWritten(string stageDir, string dirName)
    {
        if (ArtifactCache.KeyPrefixOfTmp(dirName) is not { } prefix) return false;
        var locks = Path.Combine(stageDir, ".locks");
        return Directory.Exists(locks) && Directory.GetFiles(locks, prefix + "*.lock").Any(FileLock.IsHeld);
    }

    /// <summary>
    /// Deletes the whole cache directory, after checking that it is one: a mistyped --cache-dir (".", "~")
    /// must not wipe unrelated files, and a running job's cache is left alone.
    /// </summary>
    public static int RemoveAll(string cacheDir)
    {
        if (!Directory.Exists(cacheDir)) return 0;
        var foreign = Directory.EnumerateFileSystemEntries(cacheDir).Select(Path.GetFileName)
            .Where(n => !ArtifactCache.IsCacheRootEntry(cacheDir, n!)).Order(StringComparer.Ordinal).ToList();
        if (foreign.Count > 0)
            throw new InvalidOperationException(
                $"refusing to delete {Path.GetFullPath(cacheDir)}: it does not look like a pgig cache (it holds {string.Join(", ", foreign.Take(5))}{(foreign.Count > 5 ? ", ..." : "")}). Check --cache-dir / cache_dir.");
        var held = Directory.GetDirectories(cacheDir).Select(s => Path.Combine(s, ".locks")).Where(Directory.Exists)
            .SelectMany(l => Directory.GetFiles(l, "*.lock")).FirstOrDefault(FileLock.IsHeld);
        if (held is not null)
            throw new InvalidOperationException($"refusing to delete {Path.GetFullPath(cacheDir)}: a pgig process is computing in it ({held} is locked); wait for it or stop it first");
        if (RunLease.AnyHeld(cacheDir))
            throw new InvalidOperationException($"refusing to delete {Path.GetFullPath(cacheDir)}: a running pgig process is using it (see {Path.Combine(cacheDir, RunLease.DirectoryName)}); wait for it or stop it first");
        int n = Directory.GetDirectories(cacheDir).Where(s => !Path.GetFileName(s).StartsWith('.')).Sum(s => Directory.GetDirectories(s).Count(d => Path.GetFileName(d) != ".locks"));
        Directory.Delete(cacheDir, true);
        return n;
    }
}
