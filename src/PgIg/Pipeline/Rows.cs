namespace PgIg.Pipeline;

// Parquet row types of the stage artifacts (schemas documented in docs/ARTIFACTS.md).

/// <summary>An image as stored uint8 pixels (C×H×W, the track's channel order); normalised on load.</summary>
public sealed class ImageRow
{
    public long ImageId { get; set; }
    public int Label { get; set; }
    public string File { get; set; } = "";
    public int Channels { get; set; }
    public int Height { get; set; }
    public int Width { get; set; }
    public byte[] Pixels { get; set; } = [];
}

public sealed class LabelRow
{
    public string Split { get; set; } = "";
    public long Index { get; set; }
    public int Label { get; set; }
}

/// <summary>
/// A named float32 tensor (model weights, patterns), in PyTorch layout, or one chunk of it. Values are a binary
/// column of little-endian float32 (np.frombuffer(v, '&lt;f4')): Parquet.Net decodes large numeric lists element by
/// element, which is orders of magnitude slower for multi-megabyte tensors. Tensor artifacts split a tensor over
/// consecutive rows of at most <see cref="TensorRow.ChunkBytes"/> (Offset: where this row's values start, in
/// elements of the flattened C-order tensor), so a reader never decodes more than one chunk at a time.
/// </summary>
public sealed class TensorRow
{
    /// <summary>The largest payload of one stored row: 16 MB, so decoding a row costs a few tens of MB, not the
    /// 411 MB of VGG16's fc6 twice over.</summary>
    public const int ChunkBytes = 16 << 20;

    public int Index { get; set; }
    public string Name { get; set; } = "";
    public long[] Shape { get; set; } = [];
    public long Offset { get; set; }
    public byte[] Values { get; set; } = [];

    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>float32 arrays as little-endian bytes, the binary column encoding of tensor payloads.</summary>
public static class Float32
{
    public static byte[] ToBytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        if (BitConverter.IsLittleEndian) System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).CopyTo(bytes);
        else for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    public static float[] FromBytes(byte[] bytes)
    {
        if (bytes.Length % 4 != 0) throw new InvalidDataException($"float32 payload of {bytes.Length} bytes is not a multiple of 4");
        var values = new float[bytes.Length / 4];
        if (BitConverter.IsLittleEndian) bytes.AsSpan().CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        else for (int i = 0; i < values.Length; i++) values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
        return values;
    }
}
