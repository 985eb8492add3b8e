using PgIg.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Models;

/// <summary>
/// Tensors to and from Parquet <see cref="TensorRow"/>s (model weights, patterns), a tensor split over rows of at
/// most <see cref="TensorRow.ChunkBytes"/>, so neither side holds more than one chunk besides the tensor itself.
/// </summary>
public static class TensorStore
{
    const int ChunkElements = TensorRow.ChunkBytes / sizeof(float);

    /// <summary>The rows of one tensor, each a copy of one chunk of its float32 values (made as it is enumerated).</summary>
    public static IEnumerable<TensorRow> ToRows(int index, string name, Tensor t)
    {
        long[] shape = t.shape;
        using var flat = t.detach().to(ScalarType.Float32).contiguous().reshape(-1);
        long n = flat.numel();
        for (long at = 0; at < n || at == 0; at += ChunkElements)
        {
            long count = Math.Min(ChunkElements, n - at);
            using var part = flat.narrow(0, at, count);
            var bytes = BitConverter.IsLittleEndian ? part.bytes.ToArray() : Float32.ToBytes(part.data<float>().ToArray());
            yield return new TensorRow { Index = index, Name = name, Shape = shape, Offset = at, Values = bytes };
            if (n == 0) break;
        }
    }

    /// <summary>A row split into rows of at most <see cref="TensorRow.ChunkBytes"/> (the row itself where it is small enough).</summary>
    public static IEnumerable<TensorRow> Chunks(TensorRow row)
    {
        if (row.Values.Length <= TensorRow.ChunkBytes) { yield return row; yield break; }
        for (long at = 0; at < row.Values.LongLength; at += TensorRow.ChunkBytes)
        {
            int count = (int)Math.Min(TensorRow.ChunkBytes, row.Values.LongLength - at);
            yield return new TensorRow { Index = row.Index, Name = row.Name, Shape = row.Shape, Offset = row.Offset + at / sizeof(float), Values = row.Values.AsSpan((int)at, count).ToArray() };
        }
    }

    /// <summary>
    /// The tensors of consecutive chunk rows (each tensor's rows in offset order, as writers put them), yielded as
    /// soon as a tensor is complete: the rows' bytes are copied straight into native memory, chunk by chunk.
    /// The caller owns each tensor. A gap, overlap or missing chunk is an error, never a silently short tensor.
    /// </summary>
    public static IEnumerable<(TensorRow Head, Tensor Value)> Assemble(IEnumerable<TensorRow> rows)
    {
        TensorRow? head = null;
        Tensor? t = null;
        long filled = 0, total = 0;
        try
        {
            foreach (var r in rows)
            {
                if (head is null)
                {
                    if (r.Offset != 0) throw new InvalidDataException($"tensor {r.Name}: its first stored chunk starts at element {r.Offset}, expected 0");
                    head = r;
                    total = r.Elements;
                    filled = 0;
                    t = torch.empty(r.Shape, ScalarType.Float32).DetachFromDisposeScope();
                }
                else if (r.Index != head.Index || r.Name != head.Name || !r.Shape.AsSpan().SequenceEqual(head.Shape))
                    throw new InvalidDataException($"tensor {head.Name}: {filled} of {total} elements stored before tensor {r.Name} begins");
                if (r.Offset != filled)
                    throw new InvalidDataException($"tensor {r.Name}: chunk at element {r.Offset}, expected {filled}");
                if (r.Values.LongLength % sizeof(float) != 0 || filled + r.Values.LongLength / sizeof(float) > total)
                    throw new InvalidDataException($"tensor {r.Name}: {r.Values.LongLength} bytes at element {r.Offset} overrun shape ({string.Join(", ", r.Shape)})");
                long count = r.Values.LongLength / sizeof(float);
                if (count > 0)
                {
                    using var flat = t!.view(-1);
                    using var part = flat.narrow(0, filled, count);
                    if (BitConverter.IsLittleEndian) part.bytes = r.Values;
                    else { using var src = torch.tensor(Float32.FromBytes(r.Values)); part.copy_(src); }
                }
                filled += count;
                if (filled == total)
                {
                    yield return (head, t!);
                    head = null;
                    t = null;
                }
            }
            if (head is not null) throw new InvalidDataException($"tensor {head.Name}: only {filled} of {total} elements stored");
        }
        finally { t?.Dispose(); }
    }

    /// <summary>A float32 tensor from one whole-tensor row (the caller owns it).</summary>
    public static Tensor FromRow(TensorRow r) => Assemble([r]).Single().Value;

    public static IEnumerable<TensorRow> ModelRows(SequentialNet net)
    {
        for (int i = 0; i < net.WeightedLayers.Count; i++)
        {
            foreach (var r in ToRows(2 * i, $"W_{i}", net.WeightedLayers[i].Weight)) yield return r;
            foreach (var r in ToRows(2 * i + 1, $"b_{i}", net.WeightedLayers[i].Bias)) yield return r;
        }
    }

    public static SequentialNet ModelFromRows(Architectures.Spec spec, IEnumerable<TensorRow> rows)
    {
        var tensors = Assemble(rows).OrderBy(t => t.Head.Index).ToList();
        var ws = tensors.Where(t => t.Head.Name.StartsWith("W_", StringComparison.Ordinal)).Select(t => t.Value).ToList();
        var bs = tensors.Where(t => t.Head.Name.StartsWith("b_", StringComparison.Ordinal)).Select(t => t.Value).ToList();
        return Architectures.Build(spec, ws, bs);
    }
}
