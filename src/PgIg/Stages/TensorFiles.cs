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

/// <summary>Tensor artifacts (model.parquet, patterns.parquet): one row per tensor, in index order.</summary>
public static class TensorFiles
{
    public const string ModelFile = "model.parquet", PatternsFile = "patterns.parquet";

    /// <summary>
    /// The tensors of a tensor artifact in index order, read one row group at a time (writers put one tensor in
    /// each) and turned into a tensor at once, so a 553 MB VGG16 is not held as file bytes, decoded rows and
    /// tensors together. The file is verified against its manifest first.
    /// </summary>
    public static List<StoredTensor> Read(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        ArtifactFiles.Verify(path);
        using var fs = File.OpenRead(path);
        int groups;
        var reader = ParquetReader.CreateAsync(fs, leaveStreamOpen: true).GetAwaiter().GetResult();
        try { groups = reader.RowGroupCount; }
        finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        var result = new List<StoredTensor>();
        for (int g = 0; g < groups; g++)
        {
            fs.Position = 0;
            foreach (var row in ParquetSerializer.DeserializeAsync<TensorRow>(fs, rowGroupIndex: g).GetAwaiter().GetResult().Data)
            {
                result.Add(new StoredTensor(row.Index, row.Name, row.Shape, TensorStore.FromRow(row)));
                row.Values = [];
            }
        }
        return result.OrderBy(t => t.Index).ToList();
    }

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
