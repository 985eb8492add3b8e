namespace PgIg.Pipeline;

/// <summary>Removes artifacts the current plan does not reference (or everything).</summary>
public static class CacheCleaner
{
    public static (int Kept, int Removed, long Bytes) RemoveUnreferenced(PipelinePlan plan)
    {
        var keep = plan.AllKeys().Select(k => Path.Combine(k.Stage, k.Hash)).ToHashSet(StringComparer.Ordinal);
        int kept = 0, removed = 0; long bytes = 0;
        var root = plan.Cache.Root;
        if (!Directory.Exists(root)) return (0, 0, 0);
        foreach (var stageDir in Directory.GetDirectories(root))
        {
            var stage = Path.GetFileName(stageDir);
            if (stage == "downloads") continue; // downloaded inputs are kept: they are expensive to fetch again
            foreach (var d in Directory.GetDirectories(stageDir))
            {
                var name = Path.GetFileName(d);
                if (name == ".locks") continue;
                if (keep.Contains(Path.Combine(stage, name))) { kept++; continue; }
                bytes += new DirectoryInfo(d).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
                Directory.Delete(d, true);
                removed++;
            }
        }
        return (kept, removed, bytes);
    }

    public static int RemoveAll(string cacheDir)
    {
        if (!Directory.Exists(cacheDir)) return 0;
        int n = Directory.GetDirectories(cacheDir).Sum(s => Directory.GetDirectories(s).Length);
        Directory.Delete(cacheDir, true);
        return n;
    }
}
