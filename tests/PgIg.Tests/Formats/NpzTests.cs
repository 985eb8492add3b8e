using System.IO.Compression;
using PgIg.Formats;
using Xunit;

namespace PgIg.Tests.Formats;

public sealed class NpzTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-npz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string WriteNpz(string name, Action<NpzWriter> fill)
    {
        string path = Path.Combine(_dir, name);
        using (var writer = new NpzWriter(path)) fill(writer);
        return path;
    }

    string WriteZip(string name, CompressionLevel level, params (string Member, byte[] Bytes)[] members)
    {
        string path = Path.Combine(_dir, name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach ((string member, byte[] bytes) in members)
        {
            using Stream s = zip.CreateEntry(member, level).Open();
            s.Write(bytes);
        }
        return path;
    }

    [Fact]
    public void Round_trip_of_several_arrays_with_stored_members()
    {
        float[] w = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3).ToArray();
        string path = WriteNpz("mixed.npz", npz =>
        {
            npz.Add("arr_0", w, [2, 3, 4]);
            npz.Add("mask", new byte[] { 1, 0, 1 }, [3]);
            npz.Add("labels", new long[] { 9, 8 }, [2]);
        });

        using (var npz = new NpzReader(path))
        {
            Assert.Equal(new[] { "arr_0", "mask", "labels" }, npz.Keys);
            Assert.True(npz.Contains("mask"));
            Assert.False(npz.Contains("mask.npy"));
            Assert.Equal(w, npz.ReadFloat32("arr_0", [2, 3, 4]));
            Assert.Equal(new long[] { 2, 3, 4 }, npz.ReadHeader("arr_0").Shape);
            NpyArray mask = npz.Read("mask");
            Assert.Equal("|u1", mask.Dtype);
            Assert.Equal(new byte[] { 1, 0, 1 }, mask.Data);
            Assert.Equal(new float[] { 9, 8 }, npz.Read("labels").ToFloat32());
        }

        // np.savez stores members uncompressed; keep that so files stay memory-mappable by numpy.
        using var zip = ZipFile.OpenRead(path);
        Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength));
        Assert.Equal(new[] { "arr_0.npy", "mask.npy", "labels.npy" }, zip.Entries.Select(e => e.FullName));
    }

    [Fact]
    public void Same_arrays_give_the_same_file_bytes_whenever_written()
    {
        void Fill(NpzWriter w) { w.Add("A_0", new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 }); w.Add("A_1", new float[] { 5 }, new long[] { 1 }); }
        string a = WriteNpz("a.npz", Fill), b = WriteNpz("b.npz", Fill);
        // member times are the zip epoch, not the clock, so manifests' hashes depend on content only
        using (var zip = ZipFile.OpenRead(a))
            Assert.All(zip.Entries, e => Assert.Equal(new DateTime(1980, 1, 1), e.LastWriteTime.DateTime));
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [Fact]
    public void Reads_deflated_members()
    {
        float[] data = Enumerable.Range(0, 4096).Select(i => (float)(i % 7)).ToArray();
        var npy = new MemoryStream();
        NpyWriter.Write(npy, data, [64, 64]);
        string path = WriteZip("deflated.npz", CompressionLevel.Optimal, ("A_0.npy", npy.ToArray()));
        using (var zip = ZipFile.OpenRead(path))
            Assert.True(zip.Entries[0].CompressedLength < zip.Entries[0].Length / 4);

        using var npz = new NpzReader(path);
        Assert.Equal(data, npz.ReadFloat32("A_0", [64, 64]));
    }

    [Fact]
    public void Wrong_shape_names_file_key_and_both_shapes()
    {
        string path = WriteNpz("weights.npz", npz => npz.Add("arr_26", new float[24], [4, 6]));
        using var npz = new NpzReader(path);
        var e = Assert.Throws<NpzFormatException>(() => npz.ReadFloat32("arr_26", [6, 4]));
        Assert.Equal($"{path}: key 'arr_26' has shape (4, 6), expected (6, 4)", e.Message);
    }

    [Fact]
    public void Missing_key_lists_found_keys_compactly()
    {
        string path = WriteNpz("patterns.npz", npz =>
        {
            for (int i = 0; i < 7; i++) npz.Add($"A_{i}", new float[1], [1]);
        });
        using (var npz = new NpzReader(path))
        {
            var e = Assert.Throws<NpzFormatException>(() => npz.ReadFloat32("A_7", [1]));
            Assert.Equal($"{path}: key 'A_7' is missing (found keys: A_0..A_6)", e.Message);
        }

        string mixed = WriteNpz("mixed.npz", npz =>
        {
            foreach (string k in new[] { "x", "arr_5", "arr_1", "arr_0", "arr_2", "arr_7" }) npz.Add(k, new float[1], [1]);
        });
        using var m = new NpzReader(mixed);
        Assert.EndsWith("(found keys: arr_0..arr_2, arr_5, arr_7, x)", Assert.Throws<NpzFormatException>(() => m.Read("r_0")).Message);
    }

    [Fact]
    public void Truncated_member_names_file_member_and_byte_counts()
    {
        byte[] npy = NpyTests.HandBuiltNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", new byte[20]);
        string path = WriteZip("short.npz", CompressionLevel.NoCompression, ("arr_0.npy", npy));
        using var npz = new NpzReader(path);
        var e = Assert.Throws<NpzFormatException>(() => npz.ReadFloat32("arr_0", [10]));
        Assert.StartsWith($"{path}: member 'arr_0.npy': truncated data: expected 40 bytes, found 20 bytes", e.Message);
        Assert.Contains("re-download", e.Message);
        Assert.IsType<InvalidDataException>(e.InnerException);
    }

    [Fact]
    public void Truncated_archive_asks_for_a_re_download()
    {
        string path = WriteNpz("cut.npz", npz => npz.Add("arr_0", new float[1000], [1000]));
        byte[] whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(whole.Length * 6 / 10)]);

        var e = Assert.Throws<NpzFormatException>(() => new NpzReader(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains("truncated or corrupted", e.Message);
        Assert.Contains("re-download", e.Message);
    }

    [Fact]
    public void Unsupported_member_dtype_is_reported_without_blaming_the_download()
    {
        byte[] npy = NpyTests.HandBuiltNpy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        string path = WriteZip("big.npz", CompressionLevel.NoCompression, ("A_3.npy", npy));
        using var npz = new NpzReader(path);
        var e = Assert.Throws<NpzFormatException>(() => npz.Read("A_3"));
        Assert.Contains("A_3.npy", e.Message);
        Assert.Contains("'>f4'", e.Message);
        Assert.DoesNotContain("re-download", e.Message);
    }

    [Fact]
    public void Duplicate_keys_are_refused_when_writing()
    {
        string path = Path.Combine(_dir, "dup.npz");
        using var writer = new NpzWriter(path);
        writer.Add("a", new float[1], [1]);
        Assert.Throws<ArgumentException>(() => writer.Add("a", new float[1], [1]));
    }
}
