using PgIg.Data.ImageNet;
using Xunit;

namespace PgIg.Tests.ImageNet;

public class MatFileTests
{
    static readonly (int, string, string, int[])[] Synsets =
    [
        (1, "n01440764", "tench, Tinca tinca", []),
        (2, "n01443537", "goldfish, Carassius auratus", []),
        (1001, "n01439121", "cyprinid", [1, 2]),
        (3, "n00000003", "third leaf", []),
        (1002, "n00000000", "root", [1001, 3]),
    ];

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Reads_a_meta_mat_struct_array(bool compress, bool bigEndian)
    {
        var vars = MatFile.Read(MatV5Writer.MetaMat(Synsets, compress, bigEndian));
        var s = Assert.IsType<MatStructArray>(vars["synsets"]);
        Assert.Equal(new[] { 5, 1 }, s.Dims);
        Assert.Equal(8, s.FieldNames.Count);
        Assert.Equal("goldfish, Carassius auratus", ((MatCharArray)s.Get(1, "words")).Text);
        Assert.Equal(1001, ((MatNumericArray)s.Get(2, "ILSVRC2012_ID")).Scalar);
        Assert.Equal(new double[] { 1001, 3 }, ((MatNumericArray)s.Get(4, "children")).Real);
        var empty = Assert.IsType<MatNumericArray>(s.Get(0, "children"));
        Assert.Equal(0, empty.Count);
        Assert.Equal(1300, ((MatNumericArray)s.Get(3, "num_train_images")).Scalar);
        Assert.Throws<InvalidDataException>(() => s.Get(0, "no_such_field"));
    }

    [Fact]
    public void Devkit_meta_keeps_only_leaf_synsets()
    {
        var meta = DevkitMeta.FromSynsets(MatFile.Read(MatV5Writer.MetaMat(Synsets, compress: true)), "test");
        Assert.Equal(new Dictionary<int, string> { [1] = "n01440764", [2] = "n01443537", [3] = "n00000003" }, meta.IdToWnid);
        Assert.Equal(new[] { "n00000003", "n01440764", "n01443537" }, meta.SortedWnids);
        Assert.Equal("tench, Tinca tinca", meta.WnidToWords["n01440764"]);
    }

    [Fact]
    public void Reads_cells_utf8_text_and_full_size_tags()
    {
        var bytes = MatV5Writer.Write(
        [
            ("c", new MatCell(1, 3, [new MatStr("café", Utf8: true), MatNum.Scalar(2.5), new MatEmpty()])),
            ("m", new MatNum([1, 2, 3, 4, 5, 6], 2, 3, Compact: true)),
        ], compress: false, smallElements: false);
        var vars = MatFile.Read(bytes);
        var c = Assert.IsType<MatCellArray>(vars["c"]);
        Assert.Equal("café", ((MatCharArray)c.Items[0]).Text);
        Assert.Equal(2.5, ((MatNumericArray)c.Items[1]).Scalar);
        var m = Assert.IsType<MatNumericArray>(vars["m"]);
        Assert.Equal(new[] { 2, 3 }, m.Dims);
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, m.Real);
        Assert.Throws<InvalidDataException>(() => m.Scalar);
    }

    // scipy.io.savemat(f, {'synsets': arr}, do_compression=True) with scipy 1.10: an independent writer
    // (it stores text as miUTF8 and empty fields as 0×0 doubles). Rows: (1, n01440764, tench), (2, n01443537,
    // goldfish), (1001, n01439121, cyprinid, children [1 2]), (3, n00000003, 'café fish').
    const string ScipyCompressed =
        "TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IFNhdCBOb3YgMjggMDU6MzI6MzQgMjAyNgAAAAAAAAAAAAAAAAAAAAAA" +
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSU0PAAAAxQEAAHic5ZXdSsMwFMejTN0Ex/RWkTzABvvy68rBvFAQERW9nCE9bYNdKkmK7A28" +
        "88aX8Dl8IR/BxHZbVqdTcyHioaflf8r/lyY5pGWE0HUJoUX9LOqcR2ksZLqgcy7LJZ1ywCUoqd8X0GpWv9d5dHx+edZt1hvN3tGBAVydpM9R3MXCk3YhiGI5" +
        "UeBJv0dDFnkC+FthQgwZHFQvBBaEKrMoQRjvsT4JQKKyLu6i8XwWc/OZs9JEKaun8bJv/B3LX5jiL1n+SqZ5vdFu13e221ndcA5ncNZyHKMVcBpW8QXjlGBl" +
        "7mPe6QzeZo5ntC9AhndEgcAeoVCL2A3ggPQB+0yGyHG9Un/9E/8wbP/Q5zruj/2njx3H8TtOfdLaau1Y85i1r+s5jtFBHHlmB6u4SwSRkiUSk0QQlcgR93oG" +
        "t5rjGi37JIqwoQPHsdAX4QHUBHjYaiUzMkjnfUD/tH8OH5z6p7XXaDY+mMc0TjHHMZoObgXjzPvpOSVjX9V8xrlpjFE3OO/Lu3WZ5p/P+Ssj+8u+zXH9D/xa" +
        "f6GiQ3+k0bK+47ucZZ2U+M9P2T/iq5yVHMfohDMae4BpCPTGeV3+6HmBNjqvwgaEaw==";

    [Fact]
    public void Reads_a_file_written_by_scipy()
    {
        var vars = MatFile.Read(Convert.FromBase64String(ScipyCompressed));
        var s = Assert.IsType<MatStructArray>(vars["synsets"]);
        Assert.Equal(new[] { 4, 1 }, s.Dims);
        Assert.Equal("café fish", ((MatCharArray)s.Get(3, "words")).Text);
        Assert.Equal(new double[] { 1, 2 }, ((MatNumericArray)s.Get(2, "children")).Real);
        var meta = DevkitMeta.FromSynsets(vars, "scipy");
        Assert.Equal(new[] { 1, 2, 3 }, meta.IdToWnid.Keys.Order());
        Assert.Equal("n01443537", meta.IdToWnid[2]);
    }

    [Fact]
    public void Rejects_files_that_are_not_mat_v5()
    {
        Assert.Throws<InvalidDataException>(() => MatFile.Read(new byte[10]));
        Assert.Throws<InvalidDataException>(() => MatFile.Read(new byte[200])); // no endian indicator
        var v73 = MatV5Writer.MetaMat(Synsets, compress: false);
        "MATLAB 7.3 MAT-file"u8.CopyTo(v73);
        Assert.Contains("7.3", Assert.Throws<InvalidDataException>(() => MatFile.Read(v73)).Message);
        var good = MatV5Writer.MetaMat(Synsets, compress: false);
        Assert.Throws<InvalidDataException>(() => MatFile.Read(good[..(good.Length - 40)]));
        var zipped = MatV5Writer.MetaMat(Synsets, compress: true);
        zipped[150] ^= 0xFF; // inside the zlib stream
        Assert.Throws<InvalidDataException>(() => MatFile.Read(zipped));
        Assert.Throws<InvalidDataException>(() => DevkitMeta.FromSynsets(MatFile.Read(MatV5Writer.Write([("x", MatNum.Scalar(1))], false)), "x"));
    }
}
