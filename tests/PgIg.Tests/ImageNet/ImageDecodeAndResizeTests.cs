using System.Security.Cryptography;
using PgIg.Data.Images;
using Xunit;

namespace PgIg.Tests.ImageNet;

public class PilResizeTests
{
    static RgbImage Gray(int w, int h, params byte[] values) =>
        new(w, h, values.SelectMany(v => new[] { v, v, v }).ToArray());

    static byte[] Channel0(RgbImage im) => Enumerable.Range(0, im.Width * im.Height).Select(i => im.Rgb[i * 3]).ToArray();

    [Fact]
    public void Downscale_4x1_to_2x1_uses_antialiased_triangle_weights()
    {
        // scale 2 → support 2; weights (3,3,1)/7 and (1,3,3)/7 (hand-computed from precompute_coeffs).
        var outIm = PilResize.Bilinear(Gray(4, 1, 10, 20, 30, 40), 2, 1);
        // (30+60+30)/7 = 17.14 → 17; (20+90+120)/7 = 32.86 → 33
        Assert.Equal(new byte[] { 17, 33 }, Channel0(outIm));
    }

    [Fact]
    public void Coefficients_for_4_to_2_match_hand_computation()
    {
        var c = PilResize.Coefficients.Compute(4, 2);
        Assert.Equal(5, c.KSize);
        Assert.Equal(new[] { 0, 3, 1, 3 }, c.Bounds);
        Assert.Equal(3.0 / 7, c.Weights[0], 15);
        Assert.Equal(1.0 / 7, c.Weights[2], 15);
        Assert.Equal(1.0 / 7, c.Weights[5], 15);
        // 3/7·2^22 = 1797558.86 and 1/7·2^22 = 599186.29, rounded half up.
        Assert.Equal(new[] { 1797559, 1797559, 599186, 0, 0 }, c.Fixed[..5]);
    }

    [Fact]
    public void Upscale_2x2_to_4x4_interpolates_with_edge_clamped_weights()
    {
        var outIm = PilResize.Bilinear(Gray(2, 2, 0, 100, 200, 40), 4, 4);
        // per axis: [a, .75a+.25b, .25a+.75b, b]; 58.75 → 59, 76.25 → 76, 126.25 → 126, 78.75 → 79
        byte[] expected =
        [
            0, 25, 75, 100,
            50, 59, 76, 85,
            150, 126, 79, 55,
            200, 160, 80, 40,
        ];
        Assert.Equal(expected, Channel0(outIm));
    }

    [Theory]
    [InlineData(1, 1, 225, 225)]
    [InlineData(1000, 668, 225, 225)]
    [InlineData(13, 7, 5, 29)]
    [InlineData(3, 500, 225, 2)]
    public void Constant_images_stay_constant(int w, int h, int ow, int oh)
    {
        var rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.Length; i += 3) { rgb[i] = 255; rgb[i + 1] = 7; rgb[i + 2] = 128; }
        var outIm = PilResize.Bilinear(new RgbImage(w, h, rgb), ow, oh);
        Assert.Equal(ow, outIm.Width);
        Assert.Equal(oh, outIm.Height);
        for (int i = 0; i < outIm.Rgb.Length; i += 3)
            Assert.Equal((255, 7, 128), (outIm.Rgb[i], outIm.Rgb[i + 1], outIm.Rgb[i + 2]));
    }

    [Fact]
    public void Output_stays_within_input_range_and_same_size_is_a_copy()
    {
        var rgb = new byte[37 * 23 * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(60 + (i * 7919 % 101));
        var src = new RgbImage(37, 23, rgb);
        foreach (var (ow, oh) in new[] { (5, 5), (100, 3), (225, 225) })
        {
            var r = PilResize.Bilinear(src, ow, oh);
            Assert.InRange(r.Rgb.Min(), (byte)60, (byte)160);
            Assert.InRange(r.Rgb.Max(), (byte)60, (byte)160);
        }
        var same = PilResize.Bilinear(src, 37, 23);
        Assert.Equal(src.Rgb, same.Rgb);
        Assert.NotSame(src.Rgb, same.Rgb);
    }

    [Fact]
    public void Matches_pillow_on_small_random_images()
    {
        foreach (var (inW, inH, outW, outH, input, output) in PillowReference.SmallResizes)
        {
            var r = PilResize.Bilinear(new RgbImage(inW, inH, Convert.FromHexString(input)), outW, outH);
            Assert.True(Convert.ToHexStringLower(r.Rgb) == output, $"{inW}x{inH} -> {outW}x{outH} differs from Pillow");
        }
    }

    [Fact]
    public void Matches_pillow_on_225_resizes_of_gradients()
    {
        foreach (var (inW, inH, outW, outH, sha) in PillowReference.GradientResizes)
        {
            var rgb = new byte[inW * inH * 3];
            for (int y = 0; y < inH; y++)
                for (int x = 0; x < inW; x++)
                    for (int c = 0; c < 3; c++)
                        rgb[(y * inW + x) * 3 + c] = (byte)((x * 7 + y * 13 + c * 29) % 256);
            var r = PilResize.Bilinear(new RgbImage(inW, inH, rgb), outW, outH);
            Assert.True(Sha(r.Rgb) == sha, $"{inW}x{inH} -> {outW}x{outH} differs from Pillow");
        }
    }

    [Fact]
    public void Rejects_bad_sizes()
    {
        var src = Gray(2, 1, 1, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => PilResize.Bilinear(src, 0, 3));
        Assert.Throws<ArgumentException>(() => new RgbImage(2, 2, new byte[5]));
    }

    internal static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}

public class ImageDecoderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-decode-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "images", name);

    [Fact]
    public void Fixture_photos_decode_and_resize_like_pillow()
    {
        foreach (var (file, w, h, decoded, resized225, resized97x300) in PillowReference.Photos)
        {
            var im = ImageDecoder.DecodeRgb(Fixture(file));
            Assert.Equal((w, h), (im.Width, im.Height));
            Assert.True(PilResizeTests.Sha(im.Rgb) == decoded, $"{file}: decoded pixels differ from PIL");
            Assert.True(PilResizeTests.Sha(PilResize.Bilinear(im, 225, 225).Rgb) == resized225, $"{file}: 225x225 differs");
            Assert.True(PilResizeTests.Sha(PilResize.Bilinear(im, 97, 300).Rgb) == resized97x300, $"{file}: 97x300 differs");
        }
    }

    [Fact]
    public void Other_modes_become_rgb_like_pil_convert()
    {
        foreach (var (name, mode, base64, rgb) in PillowReference.Modes)
        {
            string path = Path.Combine(_dir, name);
            File.WriteAllBytes(path, Convert.FromBase64String(base64));
            var im = ImageDecoder.DecodeRgb(path);
            Assert.True(Convert.ToHexStringLower(im.Rgb) == rgb, $"{name} (PIL mode {mode}) differs from convert('RGB')");
        }
    }

    [Fact]
    public void Errors_name_the_file()
    {
        string text = Path.Combine(_dir, "notes.jpg");
        File.WriteAllText(text, "this is not a JPEG");
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodeRgb(text));
        Assert.Contains($"cannot decode {text}: not an image or corrupted", e.Message);

        string truncated = Path.Combine(_dir, "cut.jpg");
        var bytes = File.ReadAllBytes(Fixture("bee.jpg"));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 3)]);
        e = Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodeRgb(truncated));
        Assert.Contains(truncated, e.Message);

        Assert.Throws<FileNotFoundException>(() => ImageDecoder.DecodeRgb(Path.Combine(_dir, "missing.png")));
    }
}

public class VggPreprocessTests
{
    [Fact]
    public void Produces_bgr_planes_minus_caffe_means_without_scaling()
    {
        // 2x1 image: pixel 0 = (R 10, G 20, B 30), pixel 1 = (255, 0, 128)
        var im = new RgbImage(2, 1, [10, 20, 30, 255, 0, 128]);
        var t = VggPreprocess.ToChwBgr(im);
        float[] expected =
        [
            (float)(30 - 103.939), (float)(128 - 103.939), // B plane
            (float)(20 - 116.779), (float)(0 - 116.779),   // G plane
            (float)(10 - 123.68), (float)(255 - 123.68),   // R plane
        ];
        Assert.Equal(expected, t);
        Assert.Equal(-103.939f, VggPreprocess.ToChwBgr(new RgbImage(1, 1, [0, 0, 0]))[0]);
    }

    [Fact]
    public void Load_runs_decode_resize_convert()
    {
        var t = VggPreprocess.Load(Path.Combine(AppContext.BaseDirectory, "fixtures", "images", "castle.jpg"));
        Assert.Equal(3 * 225 * 225, t.Length);
        Assert.InRange(t.Min(), -123.68f, 151.061f);
        Assert.InRange(t.Max(), -123.68f, 151.061f);
        var span = new float[3 * 225 * 225 + 1];
        Assert.Throws<ArgumentException>(() => VggPreprocess.ToChwBgr(new RgbImage(225, 225, new byte[225 * 225 * 3]), span));
    }
}
