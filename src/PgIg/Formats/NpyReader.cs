using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace PgIg.Formats;

/// <summary>Reads NumPy .npy streams (format versions 1.0, 2.0 and 3.0; little-endian numeric dtypes).</summary>
public static class NpyReader
{
    internal static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>numpy refuses larger headers too (_MAX_HEADER_SIZE); a bigger one means a corrupt length field.</summary>
    const int MaxHeaderLength = 10_000;

    /// <summary>Reads a whole array: header, then the raw data.</summary>
    public static NpyArray Read(Stream stream, string nameForErrors)
    {
        NpyHeader header = ReadHeader(stream, nameForErrors);
        RequireNumbers(header, nameForErrors);
        long bytes = DataByteCount(header, nameForErrors);
        var data = new byte[bytes];
        ReadData(stream, data, nameForErrors);
        return new NpyArray(header.Dtype, header.Shape, header.FortranOrder, data);
    }

    /// <summary>Reads only the preamble and header; the stream is left at the first data byte.</summary>
    public static NpyHeader ReadHeader(Stream stream, string nameForErrors)
    {
        Span<byte> preamble = stackalloc byte[8];
        int got = ReadFully(stream, preamble);
        if (got < preamble.Length)
            throw Fail($"{nameForErrors}: truncated .npy header: expected at least 8 bytes, found {got} bytes", truncated: true);
        if (!preamble[..6].SequenceEqual(Magic))
            throw Fail($"{nameForErrors}: not a .npy array (the magic bytes \\x93NUMPY are missing)", truncated: false);

        byte major = preamble[6], minor = preamble[7];
        int lengthBytes = (major, minor) switch
        {
            (1, 0) => 2,
            (2, 0) or (3, 0) => 4,
            _ => throw Fail($"{nameForErrors}: unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)", truncated: false),
        };
        Span<byte> lengthField = stackalloc byte[4];
        got = ReadFully(stream, lengthField[..lengthBytes]);
        if (got < lengthBytes)
            throw Fail($"{nameForErrors}: truncated .npy header length field", truncated: true);
        long headerLength = lengthBytes == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(lengthField)
            : BinaryPrimitives.ReadUInt32LittleEndian(lengthField);
        if (headerLength > MaxHeaderLength)
            throw Fail($"{nameForErrors}: .npy header length {headerLength} is implausible (corrupt file?)", truncated: false);

        var headerBytes = new byte[headerLength];
        got = ReadFully(stream, headerBytes);
        if (got < headerLength)
            throw Fail(
                $"{nameForErrors}: truncated .npy header: expected {headerLength} bytes, found {got} bytes", truncated: true);
        // Versions 1 and 2 are latin-1 by definition, 3.0 is UTF-8.
        string text = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        return NpyHeader.Parse(text, nameForErrors);
    }

    /// <summary>Reads the data that follows <paramref name="header"/> as float32 in C order.
    /// The common case (&lt;f4, C order) is read straight into the result to avoid a second copy of large weights.</summary>
    public static float[] ReadFloat32(Stream stream, NpyHeader header, string nameForErrors)
    {
        RequireNumbers(header, nameForErrors);
        long bytes = DataByteCount(header, nameForErrors);
        if (!IsDirectFloat32(header))
        {
            var raw = new byte[bytes];
            ReadData(stream, raw, nameForErrors);
            return new NpyArray(header.Dtype, header.Shape, header.FortranOrder, raw).ToFloat32();
        }
        var result = new float[header.ElementCount];
        ReadData(stream, MemoryMarshal.AsBytes(result.AsSpan()), nameForErrors);
        return result;
    }

    /// <summary>Whether the stored bytes are already little-endian float32 in C order (read without conversion).</summary>
    public static bool IsDirectFloat32(NpyHeader header) =>
        header.Dtype == "<f4" && BitConverter.IsLittleEndian && (!header.FortranOrder || header.Shape.Length < 2);

    /// <summary>The byte count of a numeric member's data (checked to fit an array).</summary>
    public static long DataBytes(NpyHeader header, string nameForErrors)
    {
        RequireNumbers(header, nameForErrors);
        return DataByteCount(header, nameForErrors);
    }

    static void RequireNumbers(NpyHeader header, string nameForErrors)
    {
        if (NpyHeader.IsText(header.Dtype))
            throw Fail($"{nameForErrors}: holds text (dtype {header.Dtype}), expected numbers", truncated: false);
    }

    /// <summary>The strings of a 1-D text array (&lt;U<i>n</i> or |S<i>n</i>), NUL padding removed.</summary>
    public static string[] ReadStrings(Stream stream, NpyHeader header, string nameForErrors)
    {
        if (!NpyHeader.IsText(header.Dtype))
            throw Fail($"{nameForErrors}: has dtype {header.Dtype}, expected text (numpy str, <U…)", truncated: false);
        if (header.Shape.Length != 1)
            throw Fail($"{nameForErrors}: text of shape {NpyHeader.FormatShape(header.Shape)}, expected one dimension", truncated: false);
        var data = new byte[DataByteCount(header, nameForErrors)];
        ReadData(stream, data, nameForErrors);
        int size = header.ItemSize;
        var encoding = header.Dtype[1] == 'U' ? (Encoding)new UTF32Encoding(bigEndian: false, byteOrderMark: false) : Encoding.UTF8;
        return Enumerable.Range(0, (int)header.Shape[0]).Select(i => encoding.GetString(data, i * size, size).TrimEnd('\0')).ToArray();
    }

    static long DataByteCount(NpyHeader header, string nameForErrors)
    {
        long bytes = header.DataBytes;
        if (bytes > Array.MaxLength)
            throw Fail(
                $"{nameForErrors}: array of shape {NpyHeader.FormatShape(header.Shape)} ({bytes} bytes) is too large to load", truncated: false);
        return bytes;
    }

    internal static void ReadData(Stream stream, Span<byte> destination, string nameForErrors)
    {
        int got = ReadFully(stream, destination);
        if (got < destination.Length)
            throw Fail(
                $"{nameForErrors}: truncated data: expected {destination.Length} bytes, found {got} bytes", truncated: true);
    }

    /// <summary>Marks truncation so <see cref="NpzReader"/> can advise a re-download instead of reporting a bad format.</summary>
    internal const string TruncatedKey = "PgIg.Npy.Truncated";

    internal static InvalidDataException Fail(string message, bool truncated)
    {
        var e = new InvalidDataException(message);
        if (truncated) e.Data[TruncatedKey] = true;
        return e;
    }

    /// <summary>Reads until the span is full or the stream ends; returns the count read.</summary>
    static int ReadFully(Stream stream, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = stream.Read(destination[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
