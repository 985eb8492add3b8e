using System.Text.Json;

namespace PgIg.Pipeline;

/// <summary>
/// What a running pgig process will read or write: &lt;cache&gt;/.leases/&lt;pid&gt;-&lt;id&gt;.json lists its plan's
/// artifacts ("stage/key"), held under a lock for as long as the process runs. `pgig clean` keeps every
/// artifact a live lease lists, so cleaning with another config cannot delete a running job's upstream
/// artifacts. A killed process drops its lock; its lease file is then stale and removed by the next reader.
/// </summary>
public sealed class RunLease : IDisposable
{
    public const string DirectoryName = ".leases";

    readonly string _file;
    readonly FileLock _lock;

    RunLease(string file, FileLock @lock) => (_file, _lock) = (file, @lock);

    public static RunLease Acquire(ArtifactCache cache, IEnumerable<StageKey> keys)
    {
        var dir = Path.Combine(cache.Root, DirectoryName);
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        var held = FileLock.Acquire(file + ".lock", TimeSpan.Zero);
        File.WriteAllText(file, JsonSerializer.Serialize(keys.Select(k => $"{k.Stage}/{k.Hash}").Distinct().ToArray()));
        return new RunLease(file, held);
    }

    /// <summary>"stage/key" of every artifact a running process holds a lease on; stale leases are removed.</summary>
    public static IReadOnlySet<string> Held(string cacheRoot)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var dir = Path.Combine(cacheRoot, DirectoryName);
        if (!Directory.Exists(dir)) return result;
        foreach (var file in Directory.GetFiles(dir, "*.json"))
        {
            if (!FileLock.IsHeld(file + ".lock"))
            {
                try { File.Delete(file); File.Delete(file + ".lock"); } catch (IOException) { }
                continue;
            }
            try { result.UnionWith(JsonSerializer.Deserialize<string[]>(File.ReadAllText(file)) ?? []); }
            catch (Exception e) when (e is IOException or JsonException) { } // being written: its keys are also locked per unit
        }
        return result;
    }

    /// <summary>Whether any running process holds a lease on this cache.</summary>
    public static bool AnyHeld(string cacheRoot)
    {
        var dir = Path.Combine(cacheRoot, DirectoryName);
        return Directory.Exists(dir) && Directory.GetFiles(dir, "*.json.lock").Any(FileLock.IsHeld);
    }

    public void Dispose()
    {
        try { File.Delete(_file); } catch (IOException) { }
        _lock.Dispose();
        try { File.Delete(_file + ".lock"); } catch (IOException) { }
    }
}
