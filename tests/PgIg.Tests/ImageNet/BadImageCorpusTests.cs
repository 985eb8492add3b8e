using System.Buffers.Binary;
using System.IO.Compression;
using PgIg.Data.Images;
using Xunit;

namespace PgIg.Tests.ImageNet;

/// <summary>Damaged and hostile image files: each must fail with one InvalidDataException naming the file.</summary>
public class BadImageCorpusTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-badimg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "images", name));

    /// <summary>The corpus: file name and contents. Shared with the CLI test that checks the one-line message.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Corpus()
    {
        var png = Fixture("elephant.png");
        var jpg = Fixture("bee.jpg");
        yield return ("gif_garbage.png", "GIF89a garbage"u8.ToArray());
        yield return ("empty.png", []);
        yield return ("empty.jpg", []);
        yield return ("text.jpg", "this is not a JPEG"u8.ToArray());
        yield return ("signature_only.png", png[..8]);
        yield return ("header_only.png", png[..33]);
        yield return ("truncated.png", png[..(png.Length / 2)]);
        yield return ("soi_only.jpg", jpg[..2]);
        yield return ("truncated.jpg", jpg[..(jpg.Length / 2)]);
        yield return ("huge_header.png", Png(100_000, 100_000));
        yield return ("max_header.png", Png(int.MaxValue, int.MaxValue));
        yield return ("huge_header.jpg", WithJpegSize(jpg, 65_535, 65_535));
        yield return ("huge_screen.gif", [.. "GIF89a"u8, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]);
    }

    /// <summary>A PNG whose IHDR claims width × height (valid CRCs) with one tiny IDAT.</summary>
    static byte[] Png(int width, int height)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
        Chunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zl = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zl.Write(new byte[64]);
            Chunk(ms, "IDAT", z.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeAndData = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        s.Write(crc);
    }

    static uint Crc32(byte[] data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte x in data)
        {
            c ^= x;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    /// <summary>The JPEG with its SOF marker's height and width replaced.</summary>
    static byte[] WithJpegSize(byte[] jpg, ushort width, ushort height)
    {
        var b = (byte[])jpg.Clone();
        for (int i = 2; i + 9 < b.Length; i++)
            if (b[i] == 0xFF && b[i + 1] is 0xC0 or 0xC1 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(i + 5), height);
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(i + 7), width);
                return b;
            }
        throw new InvalidOperationException("fixture JPEG has no SOF marker");
    }

    [Fact]
    public void Every_bad_image_fails_with_a_message_naming_the_file()
    {
        foreach (var (name, bytes) in Corpus())
        {
            string path = Path.Combine(_dir, name);
            File.WriteAllBytes(path, bytes);
            var e = Record.Exception(() => ImageDecoder.DecodeRgb(path));
            Assert.True(e is InvalidDataException, $"{name}: expected InvalidDataException, got {e?.GetType().Name ?? "no exception"}: {e?.Message}");
            Assert.Contains(path, e!.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void Absurd_dimensions_are_refused_before_allocating()
    {
        string path = Path.Combine(_dir, "huge.png");
        File.WriteAllBytes(path, Png(100_000, 100_000));
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodeRgb(path));
        Assert.Contains("100000×100000", e.Message);
    }
}
