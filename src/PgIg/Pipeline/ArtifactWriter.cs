using System.Text.Json.Nodes;
using Parquet.Serialization;

namespace PgIg.Pipeline;

/// <summary>Writes the files of one artifact into its temporary directory and records row counts and metrics.</summary>
public sealed class ArtifactWriter(string directory)
{
    internal readonly Dictionary<string, long> Rows = new(StringComparer.Ordinal);
    internal readonly Dictionary<string, JsonNode?> Metrics = new(StringComparer.Ordinal);

    public string Directory { get; } = directory;

    public string PathOf(string name) => Path.Combine(Directory, name);

    public async Task WriteParquetAsync<T>(string name, IReadOnlyCollection<T> rows) where T : class, new()
    {
        await using (var fs = File.Create(PathOf(name)))
            await ParquetSerializer.SerializeAsync(rows, fs);
        Rows[name] = rows.Count;
    }

    /// <summary>A non-Parquet side file (an npz export, a PNG). Its hash is recorded like any other.</summary>
    public void RegisterFile(string name, long? rows = null)
    {
        if (!File.Exists(PathOf(name))) throw new FileNotFoundException($"artifact file {name} was not written", PathOf(name));
        if (rows is not null) Rows[name] = rows.Value;
    }

    public void Metric(string name, JsonNode? value) => Metrics[name] = value;
}

/// <summary>An artifact file whose content does not match its manifest: it was damaged after publication.</summary>
public sealed class ArtifactDamagedException(string message) : Exception(message);

public static class ParquetFiles
{
    /// <summary>
    /// Rows of a Parquet file. A file inside a published artifact directory is verified against the SHA-256 its
    /// manifest records before it is used, so a damaged artifact is never read, whatever its modification time says.
    /// </summary>
    public static async Task<IList<T>> ReadAsync<T>(string path) where T : class, new()
    {
        ArtifactFiles.Verify(path);
        await using var fs = File.OpenRead(path);
        return (await ParquetSerializer.DeserializeAsync<T>(fs)).Data;
    }
}

/// <summary>Reads of published artifact files, checked against their manifest.</summary>
public static class ArtifactFiles
{
    /// <summary>Throws <see cref="ArtifactDamagedException"/> when <paramref name="path"/> belongs to a published artifact
    /// (its directory has a manifest) and its size or SHA-256 differs from the manifest's, or the manifest does not list it.</summary>
    public static void Verify(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var m = Manifest.TryRead(dir);
        if (m is null) return; // not a published artifact (a source file, or a unit being written)
        string name = Path.GetFileName(path);
        string rerun = $"the artifact {dir} is damaged; `pgig verify` lists every damaged artifact, and the next run of its stage recomputes it";
        var entry = m.Files.FirstOrDefault(f => f.Name == name) ?? throw new ArtifactDamagedException($"{path} is not listed in its manifest; {rerun}");
        if (!File.Exists(path)) throw new ArtifactDamagedException($"{path} is missing; {rerun}");
        if (!Matches(path, entry, verifyContent: true))
            throw new ArtifactDamagedException($"{path} does not match the SHA-256 its manifest records; {rerun}");
        if (m.Checksum is not null && m.Checksum != m.ComputeChecksum())
            throw new ArtifactDamagedException($"{Path.Combine(dir, Manifest.FileName)} was edited after publication; {rerun}");
    }

    /// <summary>
    /// Whether an existing file has the size and SHA-256 its manifest entry records. <paramref name="verifyContent"/>
    /// false trusts a file whose mtime is the one recorded at publication (status, planning); true always hashes it:
    /// a damaged file may keep its size and mtime.
    /// </summary>
    public static bool Matches(string path, ManifestFile entry, bool verifyContent)
    {
        var info = new FileInfo(path);
        if (info.Length != entry.Bytes) return false;
        if (!verifyContent && entry.MtimeTicks != 0 && info.LastWriteTimeUtc.Ticks == entry.MtimeTicks) return true;
        return Hashing.Sha256OfFile(path) == entry.Sha256;
    }
}
