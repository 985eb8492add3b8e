using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace PgIg.Data.ImageNet;

/// <summary>MATLAB array classes (mxClassID) of the MAT-file level 5 format.</summary>
public enum MatClass : byte
{
    Cell = 1, Struct = 2, Object = 3, Char = 4, Sparse = 5, Double = 6, Single = 7,
    Int8 = 8, UInt8 = 9, Int16 = 10, UInt16 = 11, Int32 = 12, UInt32 = 13, Int64 = 14, UInt64 = 15,
}

/// <summary>One MATLAB array as read from a MAT v5 file.</summary>
public abstract class MatArray(string name, int[] dims, MatClass matClass)
{
    public string Name { get; } = name;
    /// <summary>Dimensions as stored (at least two, column-major element order).</summary>
    public IReadOnlyList<int> Dims { get; } = dims;
    public MatClass Class { get; } = matClass;
    public int Count { get; } = dims.Aggregate(1, (a, d) => checked(a * d));
}

/// <summary>Numeric or logical array; every stored integer or float type is widened to double.</summary>
public sealed class MatNumericArray(string name, int[] dims, MatClass matClass, double[] real, bool isLogical, bool isComplex)
    : MatArray(name, dims, matClass)
{
    public IReadOnlyList<double> Real { get; } = real;
    public bool IsLogical { get; } = isLogical;
    /// <summary>True if the file had an imaginary part (which is not kept).</summary>
    public bool IsComplex { get; } = isComplex;

    public double Scalar => Count == 1 ? Real[0] : throw new InvalidDataException($"MAT variable '{Name}' has {Count} elements, expected a scalar");
}

/// <summary>Character array; <see cref="Rows"/> reassembles the column-major characters row by row.</summary>
public sealed class MatCharArray(string name, int[] dims, char[] chars) : MatArray(name, dims, MatClass.Char)
{
    public IReadOnlyList<string> Rows { get; } = SplitRows(dims, chars);

    /// <summary>The text of a single-row (or empty) char array, as loadmat(squeeze_me=True) gives it.</summary>
    public string Text => Rows.Count switch
    {
        0 => "",
        1 => Rows[0],
        _ => throw new InvalidDataException($"MAT char array '{Name}' has {Rows.Count} rows, expected one"),
    };

    static string[] SplitRows(int[] dims, char[] chars)
    {
        if (dims.Length != 2) return [new string(chars)];
        int rows = dims[0], cols = dims[1];
        if (rows == 0 || cols == 0) return [];
        var result = new string[rows];
        var buffer = new char[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) buffer[c] = chars[r + c * rows];
            result[r] = new string(buffer);
        }
        return result;
    }
}

public sealed class MatStructArray(string name, int[] dims, string[] fieldNames, MatArray[] values)
    : MatArray(name, dims, MatClass.Struct)
{
    readonly Dictionary<string, int> _fieldIndex = fieldNames.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i);

    public IReadOnlyList<string> FieldNames { get; } = fieldNames;

    public bool HasField(string field) => _fieldIndex.ContainsKey(field);

    /// <summary>Field <paramref name="field"/> of element <paramref name="index"/> (linear, column-major).</summary>
    public MatArray Get(int index, string field)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        if (!_fieldIndex.TryGetValue(field, out int f))
            throw new InvalidDataException($"MAT struct '{Name}' has no field '{field}' (fields: {string.Join(", ", FieldNames)})");
        return values[index * FieldNames.Count + f];
    }
}

public sealed class MatCellArray(string name, int[] dims, MatArray[] items) : MatArray(name, dims, MatClass.Cell)
{
    public IReadOnlyList<MatArray> Items { get; } = items;
}

/// <summary>Sparse, object or opaque arrays: kept as placeholders so the rest of a file stays readable.</summary>
public sealed class MatUnsupportedArray(string name, int[] dims, MatClass matClass) : MatArray(name, dims, matClass);

/// <summary>
/// Minimal reader for MAT-file level 5 (MATLAB v5–v7, the format of the ImageNet devkit's meta.mat).
/// </summary>
/// <remarks>
/// Format followed (MathWorks "MAT-File Format", level 5 chapter):
/// * 128-byte header: 116 bytes text, 8 bytes subsystem offset, int16 version 0x0100, then the endian
///   indicator: the characters 'I','M' in file order mean little-endian, 'M','I' big-endian.
/// * Then data elements: an 8-byte tag (uint32 type, uint32 byte count) and the data, padded to 8 bytes.
///   Small data element: if the upper 16 bits of the first tag word are non-zero, they hold the byte count
///   (≤ 4), the lower 16 bits the type, and the data sits in the tag's second word.
/// * miCOMPRESSED (15) holds a zlib stream that inflates to one complete element; it is not padded.
/// * miMATRIX (14) holds sub-elements: array flags (miUINT32 ×2: class in the low byte, flag bits
///   complex 0x08 / global 0x04 / logical 0x02 in the next), dimensions (miINT32), name (miINT8), then
///   numeric: real part and optional imaginary part, in any numeric storage type (MATLAB stores
///     integer-valued doubles as miUINT8/miINT16/... to save space);
///   char: the characters as miUINT16/miUTF16/miUTF8/miUINT8/miUTF32, column-major;
///   struct: field-name length (miINT32), the names (miINT8, NUL-padded to that length), then for each
///     element in column-major order and each field one miMATRIX;
///   cell: one miMATRIX per element.
///   A miMATRIX with byte count 0 is an empty double array (MATLAB writes empty fields that way).
/// HDF5-based v7.3 files are detected and rejected with a clear message.
/// </remarks>
public static class MatFile
{
    const int MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiSingle = 7,
        MiDouble = 9, MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15, MiUtf8 = 16, MiUtf16 = 17, MiUtf32 = 18;

    public static IReadOnlyDictionary<string, MatArray> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return Read(File.ReadAllBytes(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public static IReadOnlyDictionary<string, MatArray> Read(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Length < 128) throw new InvalidDataException("not a MAT v5 file (shorter than its 128-byte header)");
        string text = Encoding.ASCII.GetString(file, 0, 116);
        if (text.StartsWith("MATLAB 7.3", StringComparison.Ordinal))
            throw new InvalidDataException("MAT v7.3 (HDF5) files are not supported; save with -v7");
        bool bigEndian = (file[126], file[127]) switch
        {
            ((byte)'I', (byte)'M') => false,
            ((byte)'M', (byte)'I') => true,
            _ => throw new InvalidDataException("not a MAT v5 file (no endian indicator at byte 126)"),
        };
        var reader = new Reader(bigEndian);
        var result = new Dictionary<string, MatArray>(StringComparer.Ordinal);
        int pos = 128;
        while (pos + 8 <= file.Length)
        {
            var array = reader.ReadTopLevel(file, ref pos);
            if (array is not null) result[array.Name] = array;
        }
        return result;
    }

    sealed class Reader(bool bigEndian)
    {
        uint U32(ReadOnlySpan<byte> s) => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);

        (int Type, int Start, int Length, int Next) Tag(byte[] buf, int pos, int end)
        {
            if (pos + 8 > end) throw new InvalidDataException($"truncated data element tag at byte {pos}");
            uint first = U32(buf.AsSpan(pos));
            if ((first >> 16) != 0)
            {
                int n = (int)(first >> 16);
                if (n > 4) throw new InvalidDataException($"bad small data element at byte {pos}");
                return ((int)(first & 0xFFFF), pos + 4, n, pos + 8);
            }
            uint count = U32(buf.AsSpan(pos + 4));
            if (count > (uint)(end - pos - 8)) throw new InvalidDataException($"data element at byte {pos} runs past its container");
            int start = pos + 8, length = (int)count;
            // Compressed elements are not padded; everything else is aligned to 8 bytes.
            int next = (int)first == MiCompressed ? start + length : start + ((length + 7) & ~7);
            return ((int)first, start, length, Math.Min(next, end));
        }

        public MatArray? ReadTopLevel(byte[] buf, ref int pos)
        {
            var (type, start, length, next) = Tag(buf, pos, buf.Length);
            pos = next;
            return type switch
            {
                MiMatrix => Matrix(buf, start, length),
                MiCompressed => Inflated(buf, start, length),
                _ => null, // stray non-array elements carry no variable
            };
        }

        MatArray? Inflated(byte[] buf, int start, int length)
        {
            byte[] inner;
            try
            {
                using var z = new ZLibStream(new MemoryStream(buf, start, length, writable: false), CompressionMode.Decompress);
                using var ms = new MemoryStream();
                z.CopyTo(ms);
                inner = ms.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"corrupt compressed element: {e.Message}", e);
            }
            int pos = 0;
            return inner.Length >= 8 ? ReadTopLevel(inner, ref pos) : null;
        }

        MatArray Element(byte[] buf, ref int pos, int end, string context)
        {
            var (type, start, length, next) = Tag(buf, pos, end);
            pos = next;
            MatArray? array = type switch
            {
                MiMatrix => Matrix(buf, start, length),
                MiCompressed => Inflated(buf, start, length),
                _ => throw new InvalidDataException($"expected a matrix element in {context}, found type {type}"),
            };
            return array ?? throw new InvalidDataException($"empty compressed element in {context}");
        }

        MatArray Matrix(byte[] buf, int start, int length)
        {
            if (length == 0) return new MatNumericArray("", [0, 0], MatClass.Double, [], false, false);
            int end = start + length, pos = start;

            var flags = Sub(buf, ref pos, end, "array flags");
            if (flags.Length < 8) throw new InvalidDataException("array flags element too short");
            uint flagWord = U32(buf.AsSpan(flags.Start));
            var cls = (MatClass)(flagWord & 0xFF);
            bool complex = (flagWord & 0x800) != 0, logical = (flagWord & 0x200) != 0;

            var dimsEl = Sub(buf, ref pos, end, "dimensions");
            var dims = Numbers(buf, dimsEl).Select(d => (int)d).ToArray();
            if (dims.Length < 2 || dims.Any(d => d < 0)) throw new InvalidDataException($"bad dimensions [{string.Join(", ", dims)}]");

            var nameEl = Sub(buf, ref pos, end, "array name");
            string name = Encoding.ASCII.GetString(buf, nameEl.Start, nameEl.Length);

            switch (cls)
            {
                case MatClass.Double or MatClass.Single or MatClass.Int8 or MatClass.UInt8 or MatClass.Int16
                    or MatClass.UInt16 or MatClass.Int32 or MatClass.UInt32 or MatClass.Int64 or MatClass.UInt64:
                {
                    var real = Numbers(buf, Sub(buf, ref pos, end, "real part"));
                    var arr = new MatNumericArray(name, dims, cls, real, logical, complex);
                    if (real.Length != arr.Count) throw new InvalidDataException($"'{name}': {real.Length} values for {arr.Count} elements");
                    return arr;
                }
                case MatClass.Char:
                {
                    var chars = Chars(buf, Sub(buf, ref pos, end, "characters"));
                    var count = dims.Aggregate(1, (a, d) => checked(a * d));
                    // UTF-8 text may decode to fewer chars than elements; only a multi-row layout needs the exact count.
                    if (chars.Length != count && !(dims.Length == 2 && dims[0] == 1))
                        throw new InvalidDataException($"'{name}': {chars.Length} characters for {count} elements");
                    return new MatCharArray(name, chars.Length == count ? dims : [1, chars.Length], chars);
                }
                case MatClass.Struct:
                {
                    var lenEl = Sub(buf, ref pos, end, "field name length");
                    int nameLen = (int)Numbers(buf, lenEl)[0];
                    var namesEl = Sub(buf, ref pos, end, "field names");
                    if (nameLen <= 0 || namesEl.Length % nameLen != 0) throw new InvalidDataException($"'{name}': bad field name table");
                    var fields = new string[namesEl.Length / nameLen];
                    for (int i = 0; i < fields.Length; i++)
                        fields[i] = Encoding.ASCII.GetString(buf, namesEl.Start + i * nameLen, nameLen).TrimEnd('\0');
                    int count = dims.Aggregate(1, (a, d) => checked(a * d));
                    var values = new MatArray[checked(count * fields.Length)];
                    for (int i = 0; i < values.Length; i++)
                        values[i] = Element(buf, ref pos, end, $"struct '{name}' field '{fields[i % fields.Length]}'");
                    return new MatStructArray(name, dims, fields, values);
                }
                case MatClass.Cell:
                {
                    int count = dims.Aggregate(1, (a, d) => checked(a * d));
                    var items = new MatArray[count];
                    for (int i = 0; i < count; i++) items[i] = Element(buf, ref pos, end, $"cell '{name}'");
                    return new MatCellArray(name, dims, items);
                }
                default:
                    return new MatUnsupportedArray(name, dims, cls);
            }
        }

        (int Type, int Start, int Length) Sub(byte[] buf, ref int pos, int end, string what)
        {
            if (pos >= end) throw new InvalidDataException($"matrix element ends before its {what}");
            var (type, start, length, next) = Tag(buf, pos, end);
            pos = next;
            return (type, start, length);
        }

        double[] Numbers(byte[] buf, (int Type, int Start, int Length) el)
        {
            int size = el.Type switch
            {
                MiInt8 or MiUInt8 => 1,
                MiInt16 or MiUInt16 => 2,
                MiInt32 or MiUInt32 or MiSingle => 4,
                MiDouble or MiInt64 or MiUInt64 => 8,
                _ => throw new InvalidDataException($"data type {el.Type} is not numeric"),
            };
            if (el.Length % size != 0) throw new InvalidDataException($"numeric element of {el.Length} bytes is not a multiple of {size}");
            var result = new double[el.Length / size];
            for (int i = 0; i < result.Length; i++)
            {
                var s = buf.AsSpan(el.Start + i * size, size);
                if (bigEndian && size > 1) { var t = s.ToArray(); Array.Reverse(t); s = t; }
                result[i] = el.Type switch
                {
                    MiInt8 => (sbyte)s[0],
                    MiUInt8 => s[0],
                    MiInt16 => BinaryPrimitives.ReadInt16LittleEndian(s),
                    MiUInt16 => BinaryPrimitives.ReadUInt16LittleEndian(s),
                    MiInt32 => BinaryPrimitives.ReadInt32LittleEndian(s),
                    MiUInt32 => BinaryPrimitives.ReadUInt32LittleEndian(s),
                    MiSingle => BinaryPrimitives.ReadSingleLittleEndian(s),
                    MiDouble => BinaryPrimitives.ReadDoubleLittleEndian(s),
                    MiInt64 => BinaryPrimitives.ReadInt64LittleEndian(s),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(s),
                };
            }
            return result;
        }

        char[] Chars(byte[] buf, (int Type, int Start, int Length) el)
        {
            var bytes = buf.AsSpan(el.Start, el.Length);
            return el.Type switch
            {
                MiUInt16 or MiUtf16 => (bigEndian ? Encoding.BigEndianUnicode : Encoding.Unicode).GetChars(bytes.ToArray()),
                MiUtf8 or MiUInt8 or MiInt8 => Encoding.UTF8.GetChars(bytes.ToArray()),
                MiUtf32 => (bigEndian ? new UTF32Encoding(true, false) : new UTF32Encoding(false, false)).GetChars(bytes.ToArray()),
                _ => throw new InvalidDataException($"data type {el.Type} is not a character type"),
            };
        }
    }
}
