using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace PgIg.Formats;

/// <summary>One numpy array as stored: dtype, shape, storage order and the raw little-endian bytes.
/// Equality is by reference for the arrays (record semantics); compare contents explicitly.</summary>
public sealed record NpyArray
{
    public NpyArray(string dtype, long[] shape, bool fortranOrder, byte[] data)
    {
        if (!NpyHeader.SupportedDtypes.Contains(dtype))
            throw new ArgumentException($"unsupported dtype '{dtype}' (supported: {string.Join(", ", NpyHeader.SupportedDtypes)})", nameof(dtype));
        long expected = checked(NpyHeader.CountElements(shape) * NpyHeader.ItemSizeOf(dtype));
        if (data.LongLength != expected)
            throw new ArgumentException(
                $"data has {data.LongLength} bytes but dtype '{dtype}' with shape {NpyHeader.FormatShape(shape)} needs {expected}", nameof(data));
        Dtype = dtype;
        Shape = shape;
        FortranOrder = fortranOrder;
        Data = data;
    }

    /// <summary>numpy descr, e.g. "&lt;f4".</summary>
    public string Dtype { get; }

    public long[] Shape { get; }

    /// <summary>As stored in the file; <see cref="ToFloat32"/> hides it by returning C order.</summary>
    public bool FortranOrder { get; }

    /// <summary>Raw element bytes in storage order (little-endian).</summary>
    public byte[] Data { get; }

    public long ElementCount => NpyHeader.CountElements(Shape);

    public NpyHeader Header => new(Dtype, Shape, FortranOrder);

    public static NpyArray FromFloat32(float[] data, long[] shape) =>
        new("<f4", shape, false, ToLittleEndianBytes<float>(data, shape, BinaryPrimitives.WriteSingleLittleEndian));

    public static NpyArray FromInt64(long[] data, long[] shape) =>
        new("<i8", shape, false, ToLittleEndianBytes<long>(data, shape, BinaryPrimitives.WriteInt64LittleEndian));

    public static NpyArray FromUInt8(byte[] data, long[] shape)
    {
        CheckLength(data.LongLength, shape);
        return new("|u1", shape, false, (byte[])data.Clone());
    }

    /// <summary>The elements as float32 in C (row-major) order, whatever the stored dtype and order.
    /// float64 and int64 values are rounded to the nearest float32.</summary>
    public float[] ToFloat32()
    {
        float[] stored = new float[ElementCount];
        ReadOnlySpan<byte> src = Data;
        switch (Dtype)
        {
            case "<f4":
                if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(src).CopyTo(stored);
                else for (int i = 0; i < stored.Length; i++) stored[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
                break;
            case "<f8":
                for (int i = 0; i < stored.Length; i++) stored[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]);
                break;
            case "<i4":
                for (int i = 0; i < stored.Length; i++) stored[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]);
                break;
            case "<i8":
                for (int i = 0; i < stored.Length; i++) stored[i] = BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]);
                break;
            case "|u1":
                for (int i = 0; i < stored.Length; i++) stored[i] = src[i];
                break;
            default:
                throw new InvalidOperationException($"unsupported dtype '{Dtype}'");
        }
        return FortranOrder ? FortranToC(stored, Shape) : stored;
    }

    /// <summary>Reorders Fortran (column-major) data into C (row-major) order.</summary>
    internal static T[] FortranToC<T>(T[] fortran, long[] shape)
    {
        int n = shape.Length;
        if (n < 2 || fortran.Length == 0) return fortran;
        // Walk C order with an odometer while tracking the matching Fortran offset incrementally.
        var fStride = new long[n];
        fStride[0] = 1;
        for (int k = 1; k < n; k++) fStride[k] = fStride[k - 1] * shape[k - 1];
        var index = new long[n];
        var result = new T[fortran.Length];
        long f = 0;
        for (long c = 0; c < result.LongLength; c++)
        {
            result[c] = fortran[f];
            for (int k = n - 1; k >= 0; k--)
            {
                if (++index[k] < shape[k]) { f += fStride[k]; break; }
                f -= fStride[k] * (shape[k] - 1);
                index[k] = 0;
            }
        }
        return result;
    }

    static byte[] ToLittleEndianBytes<T>(T[] data, long[] shape, SpanWriter<T> write) where T : unmanaged
    {
        CheckLength(data.LongLength, shape);
        int size = Marshal.SizeOf<T>();
        var bytes = new byte[checked(data.LongLength * size)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(bytes);
        else for (int i = 0; i < data.Length; i++) write(bytes.AsSpan(i * size), data[i]);
        return bytes;
    }

    delegate void SpanWriter<in T>(Span<byte> destination, T value);

    static void CheckLength(long length, long[] shape)
    {
        long expected = NpyHeader.CountElements(shape);
        if (length != expected)
            throw new ArgumentException($"{length} elements do not fill shape {NpyHeader.FormatShape(shape)} ({expected} elements)");
    }
}
