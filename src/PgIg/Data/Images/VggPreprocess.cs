namespace PgIg.Data.Images;

/// <summary>
/// The original's <c>PatternPreprocess((225, 225))</c> (PGIG-SPEC §2.4): PIL bilinear resize straight to
/// size×size, then BGR, 0..255 minus the Caffe VGG channel means, no /255, C×H×W float32.
/// </summary>
public static class VggPreprocess
{
    /// <summary>225 so that the 9×9 degradation patches tile the image exactly (25 × 9).</summary>
    public const int DefaultSize = 225;

    /// <summary>Channel offsets in output (BGR) order.</summary>
    public static readonly double[] MeanBgr = [103.939, 116.779, 123.68];

    /// <summary>Decode, resize and convert one file.</summary>
    public static float[] Load(string path, int size = DefaultSize) =>
        ToChwBgr(PilResize.Bilinear(ImageDecoder.DecodeRgb(path), size, size));

    /// <summary>Converts an already resized image into 3×H×W floats (B, G, R planes).</summary>
    public static float[] ToChwBgr(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int plane = image.Width * image.Height;
        var output = new float[3 * plane];
        ToChwBgr(image, output);
        return output;
    }

    /// <summary>Writes into <paramref name="destination"/> (length 3·H·W), e.g. one slot of a batch buffer.</summary>
    public static void ToChwBgr(RgbImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        int plane = image.Width * image.Height;
        if (destination.Length != 3 * plane)
            throw new ArgumentException($"destination must hold {3 * plane} floats, has {destination.Length}", nameof(destination));
        var rgb = image.Rgb;
        for (int c = 0; c < 3; c++)
        {
            int srcChannel = 2 - c; // BGR plane c comes from RGB channel 2 - c
            double mean = MeanBgr[c];
            var dst = destination.Slice(c * plane, plane);
            // Subtract in double, then round to float32: NumPy does float64 arithmetic before astype(float32).
            for (int i = 0; i < plane; i++) dst[i] = (float)(rgb[i * 3 + srcChannel] - mean);
        }
    }
}
