using System.Buffers.Binary;
using System.Text;
using PgIg.Formats;
using Xunit;

namespace PgIg.Tests.Formats;

public class NpyTests
{
    /// <summary>Builds a .npy by hand, the way other writers (old numpy, Python 2, numpy 2.x) lay it out.</summary>
    internal static byte[] HandBuiltNpy(int major, string headerText, byte[] data, int align = 16)
    {
        int lengthBytes = major == 1 ? 2 : 4;
        Encoding encoding = major == 3 ? Encoding.UTF8 : Encoding.Latin1;
        int textBytes = encoding.GetByteCount(headerText) + 1;
        int pad = (align - (8 + lengthBytes + textBytes) % align) % align;
        byte[] header = encoding.GetBytes(headerText + new string(' ', pad) + "\n");
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        var len = new byte[lengthBytes];
        if (lengthBytes == 2) BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)header.Length);
        ms.Write(len);
        ms.Write(header);
        ms.Write(data);
        return ms.ToArray();
    }

    internal static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    static NpyArray ReadBytes(byte[] npy, string name = "test.npy") => NpyReader.Read(new MemoryStream(npy), name);

    [Fact]
    public void Writer_produces_numpys_exact_bytes_for_a_2x3_float32_array()
    {
        var ms = new MemoryStream();
        NpyWriter.Write(ms, [1f, 2f, 3f, 4f, 5f, 6f], [2, 3]);

        // np.save(f, np.arange(1, 7, dtype='<f4').reshape(2, 3)) with numpy >= 1.23: the dict, 21 - len("2") spare
        // spaces for in-place growth, then padding so magic + version + length + header = 128 bytes.
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        var expected = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0 };
        expected.AddRange(Encoding.ASCII.GetBytes(dict + new string(' ', 58) + "\n"));
        expected.AddRange(Floats(1, 2, 3, 4, 5, 6));

        Assert.Equal(expected.ToArray(), ms.ToArray());
        Assert.Equal(128 + 24, ms.Length);
    }

    [Fact]
    public void Writer_reserves_numpys_growth_space_even_when_it_costs_another_64_bytes()
    {
        // 12 dims: the dict is 100 chars; numpy appends 21 - len("10") = 19 spaces, which pushes the header
        // past 128 bytes. A writer without that reserve would stop at 128.
        long[] shape = [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 0];
        var ms = new MemoryStream();
        NpyWriter.Write(ms, Array.Empty<float>(), shape);
        byte[] bytes = ms.ToArray();
        Assert.Equal(192, bytes.Length);
        Assert.Equal(192 - 10, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)));
        string text = Encoding.ASCII.GetString(bytes, 10, bytes.Length - 10);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 0), }   ", text);
        Assert.Equal(100, text.TrimEnd().Length);
        Assert.EndsWith(" \n", text);
    }

    [Theory]
    [InlineData(new long[] { })]
    [InlineData(new long[] { 5 })]
    [InlineData(new long[] { 3, 4, 5 })]
    [InlineData(new long[] { 0, 3 })]
    [InlineData(new long[] { 1234567, 0 })]
    public void Float32_round_trips_with_64_byte_aligned_header(long[] shape)
    {
        long n = shape.Aggregate(1L, (a, d) => a * d);
        var rng = new Random(7);
        float[] data = Enumerable.Range(0, (int)n).Select(_ => (float)rng.NextDouble() * 200 - 100).ToArray();
        var ms = new MemoryStream();
        NpyWriter.Write(ms, data, shape);

        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(ms.ToArray().AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Equal((byte)'\n', ms.ToArray()[10 + headerLength - 1]);

        ms.Position = 0;
        NpyArray read = NpyReader.Read(ms, "x.npy");
        Assert.Equal("<f4", read.Dtype);
        Assert.Equal(shape, read.Shape);
        Assert.False(read.FortranOrder);
        Assert.Equal(data, read.ToFloat32());
        Assert.Equal(ms.Length, ms.Position);
    }

    [Fact]
    public void UInt8_and_int64_round_trip_with_their_numpy_descr()
    {
        var ms = new MemoryStream();
        NpyWriter.Write(ms, new byte[] { 0, 7, 255, 128 }, [2, 2]);
        ms.Position = 0;
        NpyArray bytes = NpyReader.Read(ms, "u8.npy");
        Assert.Equal("|u1", bytes.Dtype);
        Assert.Equal(new byte[] { 0, 7, 255, 128 }, bytes.Data);
        Assert.Equal(new float[] { 0, 7, 255, 128 }, bytes.ToFloat32());

        ms = new MemoryStream();
        NpyWriter.Write(ms, new long[] { -3, 0, 1L << 40 }, [3]);
        Assert.Contains("'descr': '<i8'", Encoding.ASCII.GetString(ms.ToArray(), 10, 60));
        ms.Position = 0;
        NpyArray longs = NpyReader.Read(ms, "i8.npy");
        Assert.Equal("<i8", longs.Dtype);
        Assert.Equal(-3L, BinaryPrimitives.ReadInt64LittleEndian(longs.Data));
        Assert.Equal(new float[] { -3, 0, 1L << 40 }, longs.ToFloat32());
    }

    [Fact]
    public void Reads_hand_built_version_1_header_from_python_2_with_long_suffixes()
    {
        byte[] npy = HandBuiltNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 2L), }", Floats(1, 2, 3, 4));
        NpyArray a = ReadBytes(npy);
        Assert.Equal(new long[] { 2, 2 }, a.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, a.ToFloat32());
    }

    [Fact]
    public void Reads_hand_built_version_2_and_3_headers_with_4_byte_length()
    {
        // Key order and spacing differ from numpy's own: any valid dict literal must do.
        byte[] v2 = HandBuiltNpy(2, "{\"shape\":(3,),\"fortran_order\":False,\"descr\":\"<f4\"}", Floats(-1, 0, 1));
        Assert.Equal(new float[] { -1, 0, 1 }, ReadBytes(v2).ToFloat32());

        byte[] v3 = HandBuiltNpy(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", Floats(5, 6), align: 64);
        NpyArray a = ReadBytes(v3);
        Assert.Equal(new long[] { 1, 2 }, a.Shape);
        Assert.Equal(new float[] { 5, 6 }, a.ToFloat32());
    }

    [Fact]
    public void Fortran_order_2x3_is_returned_in_C_order()
    {
        // C-order [[1, 2, 3], [4, 5, 6]] stored column by column.
        byte[] npy = HandBuiltNpy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", Floats(1, 4, 2, 5, 3, 6));
        NpyArray a = ReadBytes(npy);
        Assert.True(a.FortranOrder);
        Assert.Equal(new long[] { 2, 3 }, a.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, a.ToFloat32());

        var stream = new MemoryStream(npy);
        NpyHeader header = NpyReader.ReadHeader(stream, "f.npy");
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, NpyReader.ReadFloat32(stream, header, "f.npy"));
    }

    [Fact]
    public void Fortran_order_3d_array_is_returned_in_C_order()
    {
        const int d0 = 2, d1 = 3, d2 = 4;
        var fortran = new float[d0 * d1 * d2];
        for (int i = 0; i < d0; i++)
            for (int j = 0; j < d1; j++)
                for (int k = 0; k < d2; k++)
                    fortran[i + d0 * j + d0 * d1 * k] = 100 * i + 10 * j + k;
        byte[] npy = HandBuiltNpy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }", Floats(fortran));

        float[] c = ReadBytes(npy).ToFloat32();
        for (int i = 0; i < d0; i++)
            for (int j = 0; j < d1; j++)
                for (int k = 0; k < d2; k++)
                    Assert.Equal(100 * i + 10 * j + k, c[(i * d1 + j) * d2 + k]);
    }

    [Fact]
    public void Float64_and_int32_are_converted_to_float32()
    {
        var f8 = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(f8, 0.1);
        BinaryPrimitives.WriteDoubleLittleEndian(f8.AsSpan(8), -2.5);
        NpyArray doubles = ReadBytes(HandBuiltNpy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8));
        Assert.Equal(new[] { 0.1f, -2.5f }, doubles.ToFloat32());

        var i4 = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(i4, -7);
        BinaryPrimitives.WriteInt32LittleEndian(i4.AsSpan(4), 1000);
        NpyArray ints = ReadBytes(HandBuiltNpy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", i4));
        Assert.Equal(new[] { -7f, 1000f }, ints.ToFloat32());
    }

    [Fact]
    public void Big_endian_and_unsupported_dtypes_are_named_in_the_error()
    {
        byte[] big = HandBuiltNpy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        var e = Assert.Throws<InvalidDataException>(() => ReadBytes(big, "weights.npz: member 'arr_3.npy'"));
        Assert.Contains("arr_3.npy", e.Message);
        Assert.Contains("'>f4'", e.Message);
        Assert.Contains("big-endian", e.Message);

        byte[] complex = HandBuiltNpy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new byte[8]);
        e = Assert.Throws<InvalidDataException>(() => ReadBytes(complex, "m.npy"));
        Assert.StartsWith("m.npy: ", e.Message);
        Assert.Contains("unsupported dtype '<c8'", e.Message);
    }

    [Fact]
    public void Truncated_data_reports_expected_and_found_bytes()
    {
        byte[] npy = HandBuiltNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new byte[10]);
        var e = Assert.Throws<InvalidDataException>(() => ReadBytes(npy, "member 'A_0.npy'"));
        Assert.Equal("member 'A_0.npy': truncated data: expected 24 bytes, found 10 bytes", e.Message);
    }

    [Fact]
    public void Malformed_files_are_rejected()
    {
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => ReadBytes(Encoding.ASCII.GetBytes("PK\x03\x04 not npy"))).Message);
        byte[] notTuple = HandBuiltNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", new byte[12]);
        Assert.Contains("(n,)", Assert.Throws<InvalidDataException>(() => ReadBytes(notTuple)).Message);
        byte[] v4 = HandBuiltNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        v4[6] = 4;
        Assert.Contains("version 4.0", Assert.Throws<InvalidDataException>(() => ReadBytes(v4)).Message);
    }

    [Fact]
    public void Writer_rejects_data_that_does_not_fill_the_shape()
    {
        Assert.Throws<ArgumentException>(() => NpyWriter.Write(new MemoryStream(), new float[5], [2, 3]));
    }
}
