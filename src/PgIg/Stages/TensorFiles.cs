using Parquet;
using Parquet.Serialization;
using PgIg.Pipeline;

namespace PgIg.Stages;

/// <summary>Tensor artifacts (model.parquet, patterns.parquet): one row per tensor, in index order.</summary>
public static class TensorFiles
{
    public const string ModelFile = "model.parquet", PatternsFile = "patterns.parquet";

    public static List<TensorRow> Read(string dir, string name) =>
        ParquetFiles.ReadAsync<TensorRow>(Path.Combine(dir, name)).GetAwaiter().GetResult().OrderBy(r => r.Index).ToList();

    /// <summary>
    /// One row group per tensor, uncompressed and without dictionary probing: float noise does not compress, and
    /// Snappy plus the dictionary scan over a 400 MB fc6 payload only cost time and memory.
    /// </summary>
    public static async Task WriteLargeAsync(ArtifactWriter w, string name, IReadOnlyList<TensorRow> rows)
    {
        var options = new ParquetOptions { RowGroupSize = 1, CompressionMethod = CompressionMethod.None, DictionaryEncodingThreshold = 0, DictionaryEncodingSampleSize = 1 };
        await using (var fs = File.Create(w.PathOf(name)))
            await ParquetSerializer.SerializeAsync(rows, fs, options);
        w.RegisterFile(name, rows.Count);
    }
}
