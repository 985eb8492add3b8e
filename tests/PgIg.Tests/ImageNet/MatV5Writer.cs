using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace PgIg.Tests.ImageNet;

/// <summary>Values the test writer can encode.</summary>
abstract record MatValue;
/// <summary>Double-class array; <paramref name="Compact"/> stores integral values as miUINT8 the way MATLAB does.</summary>
sealed record MatNum(double[] Values, int Rows, int Cols, bool Compact = false) : MatValue
{
    public static MatNum Scalar(double v, bool compact = false) => new([v], 1, 1, compact);
}
sealed record MatStr(string Text, bool Utf8 = false) : MatValue;
sealed record MatEmpty : MatValue;
sealed record MatStruct(int Rows, int Cols, string[] Fields, MatValue[][] Elements) : MatValue;
sealed record MatCell(int Rows, int Cols, MatValue[] Items) : MatValue;

/// <summary>
/// A small MAT-file level 5 writer (the layout is described on PgIg.Data.ImageNet.MatFile), used to make
/// meta.mat-like files since the real devkit is not available to the tests.
/// </summary>
static class MatV5Writer
{
    const int MiInt8 = 1, MiUInt8 = 2, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiDouble = 9, MiMatrix = 14, MiCompressed = 15, MiUtf8 = 16;

    public static byte[] Write(IEnumerable<(string Name, MatValue Value)> variables, bool compress, bool bigEndian = false, bool smallElements = true)
    {
        var w = new W(bigEndian, smallElements);
        var file = new MemoryStream();
        var header = new byte[128];
        Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, written by PgIg tests".PadRight(116)).CopyTo(header, 0);
        for (int i = 116; i < 124; i++) header[i] = 0x20;
        header[124] = bigEndian ? (byte)0x01 : (byte)0x00;
        header[125] = bigEndian ? (byte)0x00 : (byte)0x01;
        header[126] = (byte)(bigEndian ? 'M' : 'I');
        header[127] = (byte)(bigEndian ? 'I' : 'M');
        file.Write(header);
        foreach (var (name, value) in variables)
        {
            var element = w.Matrix(name, value);
            if (!compress) { file.Write(element); continue; }
            var z = new MemoryStream();
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(element);
            file.Write(w.U32(MiCompressed));
            file.Write(w.U32((uint)z.Length));
            file.Write(z.ToArray()); // not padded, like MATLAB and scipy
        }
        return file.ToArray();
    }

    sealed class W(bool bigEndian, bool smallElements)
    {
        public byte[] U32(uint v)
        {
            var b = new byte[4];
            if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            return b;
        }

        byte[] Element(int type, byte[] data, bool allowSmall = true)
        {
            var ms = new MemoryStream();
            if (smallElements && allowSmall && data.Length <= 4 && data.Length > 0)
            {
                // Small data element: byte count in the upper 16 bits of the first tag word.
                ms.Write(U32(((uint)data.Length << 16) | (uint)type));
                ms.Write(data);
                ms.Write(new byte[4 - data.Length]);
                return ms.ToArray();
            }
            ms.Write(U32((uint)type));
            ms.Write(U32((uint)data.Length));
            ms.Write(data);
            ms.Write(new byte[(8 - data.Length % 8) % 8]);
            return ms.ToArray();
        }

        byte[] Ints(int[] values) => values.SelectMany(v => U32((uint)v)).ToArray();

        byte[] Doubles(double[] values) => values.SelectMany(v =>
        {
            var b = new byte[8];
            if (bigEndian) BinaryPrimitives.WriteDoubleBigEndian(b, v); else BinaryPrimitives.WriteDoubleLittleEndian(b, v);
            return b;
        }).ToArray();

        byte[] Header(int cls, int[] dims, string name)
        {
            var ms = new MemoryStream();
            ms.Write(Element(MiUInt32, [.. U32((uint)cls), .. U32(0)], allowSmall: false));
            ms.Write(Element(MiInt32, Ints(dims)));
            ms.Write(Element(MiInt8, Encoding.ASCII.GetBytes(name)));
            return ms.ToArray();
        }

        public byte[] Matrix(string name, MatValue value)
        {
            if (value is MatEmpty) return [.. U32(MiMatrix), .. U32(0)]; // MATLAB's empty field
            var body = new MemoryStream();
            switch (value)
            {
                case MatNum n:
                    body.Write(Header(6, [n.Rows, n.Cols], name));
                    if (n.Compact && n.Values.All(v => v >= 0 && v <= 255 && v == Math.Floor(v)))
                        body.Write(Element(MiUInt8, n.Values.Select(v => (byte)v).ToArray()));
                    else
                        body.Write(Element(MiDouble, Doubles(n.Values)));
                    break;
                case MatStr s:
                    body.Write(Header(4, [1, s.Text.Length], name));
                    if (s.Utf8) body.Write(Element(MiUtf8, Encoding.UTF8.GetBytes(s.Text)));
                    else body.Write(Element(MiUInt16, (bigEndian ? Encoding.BigEndianUnicode : Encoding.Unicode).GetBytes(s.Text)));
                    break;
                case MatStruct st:
                    body.Write(Header(2, [st.Rows, st.Cols], name));
                    const int nameLen = 32;
                    body.Write(Element(MiInt32, Ints([nameLen])));
                    var names = new byte[st.Fields.Length * nameLen];
                    for (int i = 0; i < st.Fields.Length; i++) Encoding.ASCII.GetBytes(st.Fields[i]).CopyTo(names, i * nameLen);
                    body.Write(Element(MiInt8, names));
                    foreach (var element in st.Elements)
                        foreach (var field in element) body.Write(Matrix("", field));
                    break;
                case MatCell c:
                    body.Write(Header(1, [c.Rows, c.Cols], name));
                    foreach (var item in c.Items) body.Write(Matrix("", item));
                    break;
                default:
                    throw new ArgumentException($"cannot write {value}");
            }
            return [.. U32(MiMatrix), .. U32((uint)body.Length), .. body.ToArray()];
        }
    }

    /// <summary>A meta.mat-shaped file: synsets with the devkit's eight fields, leaves have num_children 0.</summary>
    public static byte[] MetaMat(IEnumerable<(int Id, string Wnid, string Words, int[] Children)> synsets, bool compress, bool bigEndian = false)
    {
        string[] fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height", "num_train_images"];
        var elements = synsets.Select(s => new MatValue[]
        {
            MatNum.Scalar(s.Id, compact: true),
            new MatStr(s.Wnid),
            new MatStr(s.Words),
            new MatStr($"gloss of {s.Wnid}"),
            MatNum.Scalar(s.Children.Length, compact: true),
            s.Children.Length == 0 ? new MatEmpty() : new MatNum(s.Children.Select(c => (double)c).ToArray(), 1, s.Children.Length),
            MatNum.Scalar(s.Children.Length == 0 ? 0 : 1),
            MatNum.Scalar(s.Children.Length == 0 ? 1300 : 0),
        }).ToArray();
        return Write([("synsets", new MatStruct(elements.Length, 1, fields, elements))], compress, bigEndian);
    }
}
