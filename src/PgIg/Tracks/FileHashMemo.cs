using System.Collections.Concurrent;
using System.Text.Json;
using PgIg.Pipeline;

namespace PgIg.Tracks;

/// <summary>
/// SHA-256 of input files, remembered per (full path, size, mtime) in &lt;cache&gt;/file-hashes.json. Stage keys
/// cover the content of the weights, patterns and images, and every plan (even `pgig status`) builds those
/// keys, so a 0.5 GB weights file or 10000 images must not be re-hashed each time.
/// </summary>
public sealed class FileHashMemo
{
    sealed record Entry(long Size, long MtimeTicks, string Sha256);

    readonly string _file;
    readonly ConcurrentDictionary<string, Entry> _entries;
    bool _dirty;

    static readonly ConcurrentDictionary<string, FileHashMemo> PerRoot = new(StringComparer.Ordinal);

    /// <summary>The process's memo of a cache root: a plan's stages and tracks share it, so the memo file is read once.</summary>
    public static FileHashMemo For(string cacheRoot) => PerRoot.GetOrAdd(Path.GetFullPath(cacheRoot), root => new FileHashMemo(root));

    public FileHashMemo(string cacheRoot)
    {
        _file = Path.Combine(Path.GetFullPath(cacheRoot), "file-hashes.json");
        _entries = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
        if (!File.Exists(_file)) return;
        try
        {
            var loaded = JsonSerializer.Deserialize<Dictionary<string, Entry>>(File.ReadAllText(_file));
            if (loaded is not null) foreach (var kv in loaded) _entries[kv.Key] = kv.Value;
        }
        catch (JsonException) { } // a damaged memo only costs re-hashing
    }

    public string Sha256(string path) => Sha256Many([path])[Path.GetFullPath(path)];

    /// <summary>Hashes by full path; misses are hashed in parallel. Missing files throw FileNotFoundException.</summary>
    public IReadOnlyDictionary<string, string> Sha256Many(IEnumerable<string> paths)
    {
        var full = paths.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        var result = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        VggImageTrack.ParallelFor(full.Count, i =>
        {
            string p = full[i];
            var info = new FileInfo(p);
            if (!info.Exists) throw new FileNotFoundException($"input file not found: {p}", p);
            long size = info.Length, mtime = info.LastWriteTimeUtc.Ticks;
            if (_entries.TryGetValue(p, out var e) && e.Size == size && e.MtimeTicks == mtime) { result[p] = e.Sha256; return; }
            var sha = Hashing.Sha256OfFile(p);
            _entries[p] = new Entry(size, mtime, sha);
            _dirty = true;
            result[p] = sha;
        });
        Save();
        return result;
    }

    void Save()
    {
        if (!_dirty) return;
        var tmp = $"{_file}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_file)!);
            File.WriteAllText(tmp, JsonSerializer.Serialize(new SortedDictionary<string, Entry>(_entries, StringComparer.Ordinal)));
            File.Move(tmp, _file, overwrite: true); // concurrent writers: last one wins, lost entries are re-hashed later
            _dirty = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(tmp); } catch (IOException) { } // the memo is an optimisation; never fail a run over it
        }
    }
}
