using System.Buffers.Binary;
using PgIg.Pipeline;

namespace PgIg.Data.FashionMnist;

/// <summary>IDX files (LeCun's MNIST format), gzipped or raw.</summary>
public static class Idx
{
    /// <summary>Images as one byte array N·rows·cols, row-major.</summary>
    public static (byte[] Pixels, int Count, int Rows, int Cols) ReadImages(string path)
    {
        using var s = Hashing.OpenMaybeGzip(path);
        var header = ReadExactly(s, 16, path);
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (magic != 0x0803) throw new InvalidDataException($"{path}: not an IDX image file (magic 0x{magic:x8}, expected 0x00000803)");
        int n = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4)), rows = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8)), cols = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(12));
        return (ReadExactly(s, checked(n * rows * cols), path), n, rows, cols);
    }

    public static byte[] ReadLabels(string path)
    {
        using var s = Hashing.OpenMaybeGzip(path);
        var header = ReadExactly(s, 8, path);
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (magic != 0x0801) throw new InvalidDataException($"{path}: not an IDX label file (magic 0x{magic:x8}, expected 0x00000801)");
        return ReadExactly(s, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4)), path);
    }

    static byte[] ReadExactly(Stream s, int count, string path)
    {
        var buf = new byte[count];
        int read = 0;
        while (read < count)
        {
            int r = s.Read(buf, read, count - read);
            if (r == 0) throw new InvalidDataException($"{path}: truncated (expected {count} bytes of data, found {read}); delete it and let pgig download it again");
            read += r;
        }
        return buf;
    }
}
