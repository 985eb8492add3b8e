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

public static class ParquetFiles
{
    public static async Task<IList<T>> ReadAsync<T>(string path) where T : class, new()
    {
        await using var fs = File.OpenRead(path);
        return (await ParquetSerializer.DeserializeAsync<T>(fs)).Data;
    }
}
