using SkiaSharp;

namespace PgIg.Data.Images;

/// <summary>
/// Decodes an image file to RGB the way the original's loader does (PIL <c>Image.open(f).convert('RGB')</c>).
/// </summary>
/// <remarks>
/// Matching PIL:
/// * Pixels are requested as unpremultiplied RGBA and alpha is dropped, so RGBA / LA / palette+tRNS
///   images keep their stored colours (PIL's RGBA→RGB conversion ignores alpha; premultiplying would not).
/// * No colour management: the destination has no colour space, so Skia applies neither ICC profiles
///   nor PNG gAMA/cHRM, which PIL ignores too.
/// * EXIF orientation is not applied (PIL's open/convert does not rotate either).
/// * Grayscale is replicated to three channels; CMYK JPEGs (Adobe, inverted) become R = C·K/255 with
///   rounding in both libraries, which gives identical values.
/// Known possible differences: 16-bit PNGs (PIL truncates to the high byte, Skia may round) and JPEG
/// decoder builds (both use libjpeg-turbo with ISLOW IDCT and fancy upsampling by default).
/// ImageNet val is all 8-bit JPEG.
/// </remarks>
public static class ImageDecoder
{
    /// <summary>
    /// Pixel count above which a file is refused before any allocation: PIL's DecompressionBombError limit
    /// (2 × Image.MAX_IMAGE_PIXELS), so the original's loader would refuse such a file as well.
    /// </summary>
    public const long MaxPixels = 2L * 89_478_485;

    public static RgbImage DecodeRgb(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"image file not found: {path}", path);
        try { return Decode(path); }
        catch (Exception e) when (e is not (InvalidDataException or IOException or UnauthorizedAccessException))
        {
            // the codec trusts the file's header (sizes, lengths); whatever it throws on hostile bytes is a bad file
            throw Corrupt(path, e.Message);
        }
    }

    static RgbImage Decode(string path)
    {
        using var stream = File.OpenRead(path);
        if (stream.Length == 0) throw Corrupt(path, "the file is empty");
        using var codec = SKCodec.Create(stream, out var createResult)
            ?? throw Corrupt(path, createResult.ToString());
        var src = codec.Info;
        if (src.Width <= 0 || src.Height <= 0) throw Corrupt(path, "empty image");
        if ((long)src.Width * src.Height > MaxPixels)
            throw Corrupt(path, $"its {codec.EncodedFormat} header claims {src.Width}×{src.Height} pixels, more than the {MaxPixels:N0} an image may have");

        var info = new SKImageInfo(src.Width, src.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize64];
        var result = codec.GetPixels(info, rgba);
        // PIL raises on truncated files ("image file is truncated"), so partial decodes are errors too.
        if (result != SKCodecResult.Success) throw Corrupt(path, result.ToString());

        int n = src.Width * src.Height;
        var rgb = new byte[n * 3];
        for (int i = 0; i < n; i++)
        {
            rgb[i * 3] = rgba[i * 4];
            rgb[i * 3 + 1] = rgba[i * 4 + 1];
            rgb[i * 3 + 2] = rgba[i * 4 + 2];
        }
        return new RgbImage(src.Width, src.Height, rgb);
    }

    static InvalidDataException Corrupt(string path, string detail) =>
        new($"cannot decode {path}: not an image or corrupted ({detail}); replace or remove the file");
}
