using System.Collections.Concurrent;

namespace PgIg.Pipeline;

/// <summary>
/// Fingerprints of what code computes: a probe runs a unit's numeric core on a tiny fixed input and feeds its results
/// to a <see cref="NumericDigest"/>; the digest's hash enters the unit's key (<see cref="CodeId"/>). A probe runs once per
/// build: its hash is kept in this process and in &lt;cache&gt;/.fingerprints/&lt;build&gt;/, where the build is PgIg's and
/// TorchSharp's module version ids (deterministic builds of the same sources share them). The first process to
/// publish a hash there wins and every later one reads it, so the workers of a cluster that share a cache use one
/// value even in the improbable case that rounding sees their CPUs differ.
/// </summary>
public sealed class Fingerprints
{
    static readonly ConcurrentDictionary<string, Lazy<string>> Computed = new(StringComparer.Ordinal);
    static readonly ConcurrentDictionary<string, Fingerprints> PerRoot = new(StringComparer.Ordinal);

    /// <summary>This build's id: PgIg's and TorchSharp's module version ids.</summary>
    public static string BuildId { get; } = Hashing.Sha256Hex(
        $"{typeof(Fingerprints).Assembly.ManifestModule.ModuleVersionId}/{typeof(TorchSharp.torch).Assembly.ManifestModule.ModuleVersionId}")[..16];

    /// <summary>The cache root's directory of memoised fingerprints (not an artifact stage: clean keeps it).</summary>
    public const string DirectoryName = ".fingerprints";

    readonly string? _memoDir;
    readonly Func<string, double>? _perturbation;
    readonly ConcurrentDictionary<string, Lazy<string>> _own = new(StringComparer.Ordinal);

    /// <summary>The process's fingerprints, memoised under a cache root.</summary>
    public static Fingerprints For(string cacheRoot) => PerRoot.GetOrAdd(Path.GetFullPath(cacheRoot), root => new Fingerprints(root));

    /// <param name="cacheRoot">Where hashes are kept between processes; null: only in this process.</param>
    /// <param name="perturbation">For tests: a relative change (by probe id) applied to every number a probe reports, as a
    /// change of that code would; such fingerprints are computed afresh and never memoised.</param>
    public Fingerprints(string? cacheRoot, Func<string, double>? perturbation = null)
    {
        _memoDir = cacheRoot is null ? null : Path.Combine(Path.GetFullPath(cacheRoot), DirectoryName, BuildId);
        _perturbation = perturbation;
    }

    /// <summary>The fingerprint of probe <paramref name="id"/> (which names the code and every setting that selects its path).</summary>
    public string Of(string id, Action<NumericDigest> probe)
    {
        if (_perturbation is not null) return _own.GetOrAdd(id, _ => new Lazy<string>(() => Compute(probe, _perturbation(id)))).Value;
        return Computed.GetOrAdd(id, _ => new Lazy<string>(() => Read(id) ?? Publish(id, Compute(probe)))).Value;
    }

    /// <summary>Runs a probe, without any memo.</summary>
    public static string Compute(Action<NumericDigest> probe, double perturbation = 0)
    {
        // Probes run at the process's thread count: rounding (NumericDigest) absorbs what the thread count changes. They
        // once pinned torch to one thread (cheaper on tensors this small), but set_num_threads is process-wide and
        // toggling it changed the last bits of later computations in the same process (a Sanity unit recomputed after
        // a probe differed from its first computation), which byte-identical reruns cannot allow.
        var digest = new NumericDigest(perturbation);
        probe(digest);
        return digest.Hash[..16];
    }

    string FileOf(string id) => Path.Combine(_memoDir!, Hashing.Sha256Hex(id)[..32]);

    string? Read(string id)
    {
        if (_memoDir is null) return null;
        try
        {
            var lines = File.ReadAllLines(FileOf(id));
            return lines.Length == 2 && lines[0] == id && lines[1].Length == 16 ? lines[1] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Writes the hash unless another process was first; returns the published one.</summary>
    string Publish(string id, string hash)
    {
        if (_memoDir is null) return hash;
        var tmp = $"{FileOf(id)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(_memoDir);
            File.WriteAllLines(tmp, [id, hash]);
            File.Move(tmp, FileOf(id), overwrite: false);
            return hash;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(tmp); } catch (IOException) { } // the memo is an optimisation; a read-only cache only recomputes
            return Read(id) ?? hash;
        }
    }
}
