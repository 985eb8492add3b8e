using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PgIg.Pipeline;

public enum CacheStatus { Fresh, Missing, Invalid }

public sealed record CacheCheck(CacheStatus Status, string? Reason = null);

/// <summary>
/// Content-addressed artifact store: &lt;root&gt;/&lt;stage&gt;/&lt;key&gt;/ holds Parquet files plus manifest.json.
/// A directory counts only with a manifest whose key matches and whose file hashes verify.
/// Publication is atomic (temporary directory, fsync, rename) and guarded by a per-key lock.
/// </summary>
public sealed class ArtifactCache(string root)
{
    public string Root { get; } = Path.GetFullPath(root);
    public RunLog Log => new(Path.Combine(Root, "runlog.jsonl"));

    public string DirectoryOf(StageKey key) => Path.Combine(Root, key.Stage, key.Hash);

    /// <summary>Creates the cache root if needed and proves it writable, so a read-only cache fails before any stage runs.</summary>
    public void EnsureWritable() => WritableDirectory.Ensure(Root, "cache_dir (or --cache-dir)");

    /// <summary>Temporary directories of a key being computed: ".tmp-&lt;first 16 hex of the key&gt;-&lt;pid&gt;-&lt;guid&gt;".</summary>
    public static string TmpPrefix(string keyHash) => $"{TmpMarker}{keyHash[..16]}-";

    const string TmpMarker = ".tmp-";

    /// <summary>For a temporary directory's name, the key prefix it was made for; null for any other name.</summary>
    public static string? KeyPrefixOfTmp(string dirName) =>
        dirName.StartsWith(TmpMarker, StringComparison.Ordinal) ? dirName[TmpMarker.Length..].Split('-')[0] : null;

    /// <summary>The per-key lock a computing process holds (<see cref="GetOrComputeAsync"/>).</summary>
    public static string LockPath(string stageDir, string keyHash) => Path.Combine(stageDir, ".locks", keyHash + ".lock");

    /// <summary>
    /// What a pgig cache root may hold, judged by shape, not by stage names: the run log, downloads, the file-hash
    /// memo (with its temporary file while it is written), and stage directories, whose entries are artifact
    /// directories named by a key (64 hex digits), locks, and temporary or trash directories.
    /// </summary>
    public static bool IsCacheRootEntry(string root, string name)
    {
        if (name is "downloads" or "runlog.jsonl" or Fingerprints.DirectoryName or RunLease.DirectoryName || name.StartsWith("file-hashes.json", StringComparison.Ordinal)) return true;
        var dir = Path.Combine(root, name);
        if (!Directory.Exists(dir) || name.StartsWith('.')) return false;
        // every stage directory pgig makes holds its .locks folder from the first computation on
        var entries = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).ToList();
        return entries.Count > 0 && entries.All(e =>
            e is ".locks" || e!.StartsWith(TmpMarker, StringComparison.Ordinal) || e.StartsWith(".trash-", StringComparison.Ordinal) ||
            (e.Length == 64 && e.All(char.IsAsciiHexDigitLower) && Directory.Exists(Path.Combine(dir, e))));
    }

    /// <param name="verifyContent">true: hash every file. false (status, planning): hash only files whose size or
    /// modification time differs from publication, so an edited or replaced file is still caught.</param>
    public CacheCheck Check(StageKey key, bool verifyContent = true)
    {
        var dir = DirectoryOf(key);
        if (!Directory.Exists(dir)) return new CacheCheck(CacheStatus.Missing);
        var m = Manifest.TryRead(dir);
        if (m is null) return new CacheCheck(CacheStatus.Invalid, $"{dir} has no valid {Manifest.FileName}");
        if (m.Key != key.Hash) return new CacheCheck(CacheStatus.Invalid, $"{dir}: manifest key {m.Key[..12]} does not match the directory");
        var problem = Problem(dir, m, verifyContent);
        if (problem is not null) return new CacheCheck(CacheStatus.Invalid, problem);
        return new CacheCheck(CacheStatus.Fresh);
    }

    /// <summary>
    /// Every published artifact in the cache, whatever config made it, hashed against its manifest: (slot, directory,
    /// reason) for each that does not verify. Unlike a plan's keys this also reaches shards a damaged Data artifact
    /// would hide.
    /// </summary>
    public (int Verified, List<(string Slot, string Dir, string Reason)> Damaged) VerifyAll()
    {
        int verified = 0;
        var damaged = new List<(string, string, string)>();
        if (!Directory.Exists(Root)) return (0, damaged);
        foreach (var stageDir in Directory.GetDirectories(Root).Order(StringComparer.Ordinal))
        {
            var stage = Path.GetFileName(stageDir);
            if (stage.StartsWith('.') || stage == "downloads") continue;
            foreach (var dir in Directory.GetDirectories(stageDir).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(dir);
                if (name.StartsWith('.')) continue; // locks, temporary and trash directories: never read as artifacts
                verified++;
                var m = Manifest.TryRead(dir);
                string? reason = m is null ? $"no valid {Manifest.FileName}"
                    : m.Key != name ? $"manifest key {m.Key[..Math.Min(12, m.Key.Length)]} does not match the directory"
                    : Problem(dir, m, verifyContent: true);
                if (reason is not null) damaged.Add((m?.Slot ?? $"{stage}/{name[..Math.Min(12, name.Length)]}", dir, reason));
            }
        }
        return (verified, damaged);
    }

    /// <summary>Why a published directory does not match its manifest (edited manifest, missing, resized or changed
    /// file), or null. <paramref name="verifyContent"/> false skips hashing files whose size and mtime are unchanged.</summary>
    static string? Problem(string dir, Manifest m, bool verifyContent)
    {
        if (m.Checksum is not null && m.Checksum != m.ComputeChecksum())
            return $"{Path.Combine(dir, Manifest.FileName)} was edited after publication (its checksum does not match)";
        foreach (var f in m.Files)
        {
            var p = Path.Combine(dir, f.Name);
            if (!File.Exists(p)) return $"{p} is missing";
            if (new FileInfo(p).Length != f.Bytes) return $"{p} has {new FileInfo(p).Length} bytes, the manifest says {f.Bytes}";
            if (!ArtifactFiles.Matches(p, f, verifyContent)) return $"{p}: content hash does not match the manifest";
        }
        return null;
    }

    public Manifest ReadManifest(StageKey key) =>
        Manifest.TryRead(DirectoryOf(key)) ?? throw new InvalidDataException($"{DirectoryOf(key)}: no valid manifest; rerun the stage");

    /// <summary>
    /// Returns the artifact for <paramref name="key"/>, computing and publishing it when it is not a valid
    /// cache entry. <paramref name="onInvalid"/> hears why an existing directory was not taken.
    /// </summary>
    public async Task<(Manifest Manifest, bool Computed)> GetOrComputeAsync(StageKey key, Func<ArtifactWriter, Task> compute, Action<string>? onInvalid = null)
    {
        var check = Check(key);
        if (check.Status == CacheStatus.Fresh) { Log.Append(key, "cached"); return (ReadManifest(key), false); }

        var stageDir = Path.Combine(Root, key.Stage);
        Directory.CreateDirectory(stageDir);
        using var _ = FileLock.Acquire(LockPath(stageDir, key.Hash), TimeSpan.FromHours(12),
            () => Console.Error.WriteLine($"waiting for another pgig process computing {key}"));

        check = Check(key); // someone may have published while we waited
        if (check.Status == CacheStatus.Fresh) { Log.Append(key, "cached"); return (ReadManifest(key), false); }
        if (check.Status == CacheStatus.Invalid)
        {
            onInvalid?.Invoke($"{key.Slot}: cached artifact is not valid ({check.Reason}); recomputing");
            Log.Append(key, "invalid");
        }

        // leftovers of an interrupted run (Ctrl-C, kill -9): we hold the key's lock, so nobody is writing them
        foreach (var stale in Directory.GetDirectories(stageDir, TmpPrefix(key.Hash) + "*"))
            try { Directory.Delete(stale, true); onInvalid?.Invoke($"{key.Slot}: removed {Path.GetFileName(stale)}, left by an interrupted run"); }
            catch (IOException) { }
        var tmp = Path.Combine(stageDir, $"{TmpPrefix(key.Hash)}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        try
        {
            var sw = Stopwatch.StartNew();
            var writer = new ArtifactWriter(tmp);
            await compute(writer);
            var files = new List<ManifestFile>();
            foreach (var path in Directory.GetFiles(tmp).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path);
                Fsync(path);
                files.Add(new ManifestFile(name, Hashing.Sha256OfFile(path), new FileInfo(path).Length, writer.Rows.TryGetValue(name, out var r) ? r : null,
                    File.GetLastWriteTimeUtc(path).Ticks));
            }
            var manifest = new Manifest
            {
                Stage = key.Stage, Slot = key.Slot, Key = key.Hash,
                Inputs = JsonNode.Parse(Hashing.PrettyJson(key.Inputs))!,
                Files = files, CreatedUtc = DateTime.UtcNow, DurationSeconds = sw.Elapsed.TotalSeconds,
                Metrics = writer.Metrics,
            };
            var manifestPath = Path.Combine(tmp, Manifest.FileName);
            manifest = manifest.WithChecksum();
            File.WriteAllText(manifestPath, manifest.ToJson());
            Fsync(manifestPath);

            var final = DirectoryOf(key);
            if (Directory.Exists(final))
            {
                var trash = Path.Combine(stageDir, $".trash-{Guid.NewGuid():N}");
                Directory.Move(final, trash);
                Directory.Delete(trash, true);
            }
            Directory.Move(tmp, final);
            FsyncDirectory(stageDir);
            Log.Append(key, "computed");
            return (manifest, true);
        }
        catch
        {
            try { Directory.Delete(tmp, true); } catch (IOException) { }
            throw;
        }
    }

    static void Fsync(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        fs.Flush(flushToDisk: true);
    }

    static void FsyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return; // NTFS renames are journaled; no directory handle to sync
        try
        {
            using var h = File.OpenHandle(dir, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(h);
        }
        catch (UnauthorizedAccessException) { }
        catch (IOException) { }
    }

    /// <summary>All manifests of a stage (skips temporary and broken directories).</summary>
    public IEnumerable<(string Dir, Manifest Manifest)> Manifests(string stage)
    {
        var stageDir = Path.Combine(Root, stage);
        if (!Directory.Exists(stageDir)) yield break;
        foreach (var d in Directory.GetDirectories(stageDir))
        {
            if (Path.GetFileName(d).StartsWith('.')) continue;
            if (Manifest.TryRead(d) is { } m) yield return (d, m);
        }
    }

    /// <summary>Why a unit is stale: the fields of its inputs that differ from the latest artifact of the same slot.</summary>
    public string? StaleReason(StageKey key, IReadOnlyDictionary<string, List<Manifest>>? bySlot = null)
    {
        List<Manifest> candidates = bySlot is not null
            ? (bySlot.TryGetValue(key.Slot, out var l) ? l : [])
            : Manifests(key.Stage).Select(x => x.Manifest).Where(m => m.Slot == key.Slot).ToList();
        // only artifacts of the same kind explain staleness: the Fashion-MNIST Data unit is no earlier version of
        // the ImageNet one (code versions "data-fashion-v1" and "data-imagenet-v1" name different families)
        string family = CodeFamily(key.Inputs["code_version"] as string);
        var previous = candidates.Where(m => m.Key != key.Hash && CodeFamily(m.Inputs["code_version"]?.GetValue<string>()) == family)
            .OrderByDescending(m => m.CreatedUtc).FirstOrDefault();
        if (previous is null) return null;
        var now = JsonNode.Parse(Hashing.PrettyJson(key.Inputs))!;
        var diffs = new List<string>();
        Diff(previous.Inputs, now, "", diffs);
        return diffs.Count == 0 ? "key changed" : string.Join("; ", diffs.Take(4)) + (diffs.Count > 4 ? $"; and {diffs.Count - 4} more" : "");
    }

    /// <summary>A code version without its trailing "-vN": the kind of computation, across versions.</summary>
    static string CodeFamily(string? version) =>
        version is null ? "" : System.Text.RegularExpressions.Regex.Replace(version, "-v[0-9]+$", "");

    static void Diff(JsonNode? a, JsonNode? b, string path, List<string> into)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var k in oa.Select(kv => kv.Key).Union(ob.Select(kv => kv.Key)).Order(StringComparer.Ordinal))
                Diff(oa[k], ob[k], path.Length == 0 ? k : $"{path}.{k}", into);
            return;
        }
        string sa = a?.ToJsonString() ?? "(none)", sb = b?.ToJsonString() ?? "(none)";
        if (sa == sb) return;
        if (path.StartsWith("upstream.", StringComparison.Ordinal)) into.Add($"{path} changed");
        else if (sa.Length > 60 || sb.Length > 60) into.Add($"{path} changed");
        else into.Add($"{path}: {sa} → {sb}");
    }
}

/// <summary>Append-only record of what each run computed or took from the cache (tests and CI read it).</summary>
public sealed class RunLog(string path)
{
    public void Append(StageKey key, string action)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var line = JsonSerializer.Serialize(new { time = DateTime.UtcNow, stage = key.Stage, slot = key.Slot, key = key.Hash, action, pid = Environment.ProcessId });
        lock (typeof(RunLog)) File.AppendAllText(path, line + "\n");
    }

    public IEnumerable<(string Slot, string Action)> Read()
    {
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0) continue;
            var n = JsonNode.Parse(line)!;
            yield return (n["slot"]!.GetValue<string>(), n["action"]!.GetValue<string>());
        }
    }
}
