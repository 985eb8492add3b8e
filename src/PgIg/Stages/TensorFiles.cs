using Parquet;
using Parquet.Serialization;
using PgIg.Models;
using PgIg.Pipeline;

namespace PgIg.Stages;

/// <summary>One tensor of a tensor artifact: its index (order), name (W_3, b_3, A_3) and value.</summary>
public sealed record StoredTensor(int Index, string Name, long[] Shape, TorchSharp.torch.Tensor Value)
{
    /// <summary>A model's weights (W_i) and biases (b_i), each in layer order.</summary>
    public static (List<StoredTensor> Weights, List<StoredTensor> Biases) SplitModel(IReadOnlyList<StoredTensor> tensors) =>
        (tensors.Where(t => t.Name.StartsWith("W_", StringComparison.Ordinal)).ToList(),
         tensors.Where(t => t.Name.StartsWith("b_", StringComparison.Ordinal)).ToList());
}

/// <summary>
/// Tensor artifacts (model.parquet, patterns.parquet): tensors in index order, each over consecutive rows of at
/// most <see cref="TensorRow.ChunkBytes"/>, one row per row group, so reading or writing one holds one chunk at a time.
/// </summary>
public static class TensorFiles
{
    public const string ModelFile = "model.parquet", PatternsFile = "patterns.parquet";

    /// <summary>The tensors of a tensor artifact, in index order (the caller owns them).</summary>
    public static List<StoredTensor> Read(string dir, string name) => Stream(dir, name).OrderBy(t => t.Index).ToList();

    /// <summary>
    /// The tensors of a tensor artifact one at a time, in file (index) order, each copied into native memory chunk
    /// by chunk as its row groups are decoded; a consumer that disposes each tensor before taking the next holds
    /// one tensor and one chunk. The file is verified against its manifest first. The caller owns each tensor.
    /// </summary>
    public static IEnumerable<StoredTensor> Stream(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        ArtifactFiles.Verify(path);
        return TensorStore.Assemble(Rows(path)).Select(t => new StoredTensor(t.Head.Index, t.Head.Name, t.Head.Shape, t.Value));
    }

    static IEnumerable<TensorRow> Rows(string path)
    {
        using var fs = File.OpenRead(path);
        int groups;
        var reader = ParquetReader.CreateAsync(fs, leaveStreamOpen: true).GetAwaiter().GetResult();
        try { groups = reader.RowGroupCount; }
        finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        for (int g = 0; g < groups; g++)
        {
            fs.Position = 0;
            foreach (var row in ParquetSerializer.DeserializeAsync<TensorRow>(fs, rowGroupIndex: g).GetAwaiter().GetResult().Data)
                yield return row;
        }
    }

    /// <summary>
    /// Writes tensor rows as they are enumerated, split into chunks, one chunk per row group, uncompressed and
    /// without dictionary probing: float noise does not compress, and Snappy plus the dictionary scan only cost
    /// time and memory. The producer may yield whole tensors or chunks; it should not hold what it has yielded.
    /// </summary>
    public static async Task WriteAsync(ArtifactWriter w, string name, IEnumerable<TensorRow> rows)
    {
        var options = new ParquetOptions { RowGroupSize = 1, CompressionMethod = CompressionMethod.None, DictionaryEncodingThreshold = 0, DictionaryEncodingSampleSize = 1 };
        long count = 0;
        await using (var fs = File.Create(w.PathOf(name)))
            await ParquetSerializer.SerializeAsync(rows.SelectMany(TensorStore.Chunks).Select(r => { count++; return r; }), fs, options);
        w.RegisterFile(name, count);
    }
}
