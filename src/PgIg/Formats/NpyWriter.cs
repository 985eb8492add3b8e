using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace PgIg.Formats;

/// <summary>Writes .npy streams byte-for-byte as numpy's np.save does (C order, version 1.0 unless the header needs 2.0).</summary>
public static class NpyWriter
{
    const int ArrayAlign = 64;

    /// <summary>"\x93NUMPY" plus the two version bytes (numpy's MAGIC_LEN).</summary>
    const int MagicAndVersionLength = 8;

    /// <summary>numpy reserves room so the leading dimension can grow in place; len(str(8*2**64-1)).</summary>
    const int GrowthAxisMaxDigits = 21;

    public static void Write(Stream stream, float[] data, long[] shape) => WriteTyped(stream, "<f4", data, shape);

    public static void Write(Stream stream, long[] data, long[] shape) => WriteTyped(stream, "<i8", data, shape);

    public static void Write(Stream stream, byte[] data, long[] shape) => WriteTyped(stream, "|u1", data, shape);

    /// <summary>A 1-D numpy str array (&lt;U<i>n</i>: UTF-32, NUL-padded to the longest), as np.save(f, np.array(strings)) writes it.</summary>
    public static void Write(Stream stream, string[] strings)
    {
        var utf32 = new UTF32Encoding(bigEndian: false, byteOrderMark: false);
        int width = Math.Max(1, strings.Select(x => utf32.GetByteCount(x) / 4).DefaultIfEmpty(0).Max());
        stream.Write(BuildHeader($"<U{width}", false, [strings.Length]));
        var item = new byte[4 * width];
        foreach (var str in strings)
        {
            Array.Clear(item);
            utf32.GetBytes(str, item);
            stream.Write(item);
        }
    }

    /// <summary>Writes the array as stored, including a Fortran-order flag.</summary>
    public static void Write(Stream stream, NpyArray array)
    {
        stream.Write(BuildHeader(array.Dtype, array.FortranOrder, array.Shape));
        stream.Write(array.Data);
    }

    static void WriteTyped<T>(Stream stream, string dtype, T[] data, long[] shape) where T : unmanaged
    {
        long expected = NpyHeader.CountElements(shape);
        if (data.LongLength != expected)
            throw new ArgumentException($"{data.LongLength} elements do not fill shape {NpyHeader.FormatShape(shape)} ({expected} elements)");
        stream.Write(BuildHeader(dtype, false, shape));
        if (BitConverter.IsLittleEndian || typeof(T) == typeof(byte))
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        NpyArray le = data switch
        {
            float[] f => NpyArray.FromFloat32(f, shape),
            long[] l => NpyArray.FromInt64(l, shape),
            _ => throw new NotSupportedException(typeof(T).Name),
        };
        stream.Write(le.Data);
    }

    /// <summary>Magic, version, header length and the padded dict literal, exactly as numpy's _write_array_header.</summary>
    internal static byte[] BuildHeader(string dtype, bool fortranOrder, long[] shape)
    {
        var dict = new StringBuilder()
            .Append("{'descr': '").Append(dtype).Append("', ")
            .Append("'fortran_order': ").Append(fortranOrder ? "True" : "False").Append(", ")
            .Append("'shape': ").Append(NpyHeader.FormatShape(shape)).Append(", ")
            .Append('}');
        if (shape.Length > 0)
        {
            long growthAxis = shape[fortranOrder ? ^1 : 0];
            dict.Append(' ', Math.Max(0, GrowthAxisMaxDigits - growthAxis.ToString(CultureInfo.InvariantCulture).Length));
        }
        byte[] text = Encoding.ASCII.GetBytes(dict.ToString());

        // Version 1.0 has a 2-byte length; numpy switches to 2.0 (4 bytes) only when that overflows.
        foreach (int lengthBytes in (int[])[2, 4])
        {
            int hlen = text.Length + 1; // + the final '\n'
            int padlen = ArrayAlign - (MagicAndVersionLength + lengthBytes + hlen) % ArrayAlign;
            long total = hlen + padlen;
            if (lengthBytes == 2 && total > ushort.MaxValue) continue;

            var header = new byte[MagicAndVersionLength + lengthBytes + total];
            NpyReader.Magic.CopyTo(header);
            header[6] = (byte)(lengthBytes == 2 ? 1 : 2);
            header[7] = 0;
            if (lengthBytes == 2) BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)total);
            else BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)total);
            int at = 8 + lengthBytes;
            text.CopyTo(header, at);
            header.AsSpan(at + text.Length, padlen).Fill((byte)' ');
            header[^1] = (byte)'\n';
            return header;
        }
        throw new InvalidOperationException("unreachable: a 4-byte header length always fits");
    }
}
