using PgIg.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Models;

/// <summary>Tensors to and from Parquet <see cref="TensorRow"/>s (model weights, patterns).</summary>
public static class TensorStore
{
    public static TensorRow ToRow(int index, string name, Tensor t) =>
        new() { Index = index, Name = name, Shape = t.shape, Values = Float32.ToBytes(t.contiguous().to(ScalarType.Float32).data<float>().ToArray()) };

    /// <summary>A float32 tensor from a row's little-endian bytes, copied straight into native memory (no float[] in between:
    /// VGG16's fc6 alone is 411 MB).</summary>
    public static Tensor FromRow(TensorRow r)
    {
        if (!BitConverter.IsLittleEndian) return torch.tensor(Float32.FromBytes(r.Values), r.Shape).DetachFromDisposeScope();
        long n = r.Shape.Aggregate(1L, (a, b) => a * b);
        if (r.Values.LongLength != n * sizeof(float))
            throw new InvalidDataException($"tensor {r.Name}: {r.Values.LongLength} bytes for shape ({string.Join(", ", r.Shape)}), expected {n * sizeof(float)}");
        var t = torch.empty(r.Shape, ScalarType.Float32).DetachFromDisposeScope();
        t.bytes = r.Values;
        return t;
    }

    public static List<TensorRow> ModelRows(SequentialNet net)
    {
        var rows = new List<TensorRow>();
        for (int i = 0; i < net.WeightedLayers.Count; i++)
        {
            rows.Add(ToRow(2 * i, $"W_{i}", net.WeightedLayers[i].Weight));
            rows.Add(ToRow(2 * i + 1, $"b_{i}", net.WeightedLayers[i].Bias));
        }
        return rows;
    }

    public static SequentialNet ModelFromRows(Architectures.Spec spec, IList<TensorRow> rows)
    {
        var ordered = rows.OrderBy(r => r.Index).ToList();
        var ws = ordered.Where(r => r.Name.StartsWith("W_", StringComparison.Ordinal)).Select(FromRow).ToList();
        var bs = ordered.Where(r => r.Name.StartsWith("b_", StringComparison.Ordinal)).Select(FromRow).ToList();
        return Architectures.Build(spec, ws, bs);
    }
}
