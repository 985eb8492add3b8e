using PgIg.Data.Images;

namespace PgIg.Tracks;

/// <summary>The original's PatternPreprocess((225, 225)) (spec §2.4): B, G, R planes minus the Caffe means, 0–255 scale, no /255.</summary>
public sealed class CaffeVggInput : ImageInput
{
    static readonly float[] MeanBgr = VggPreprocess.MeanBgr.Select(m => (float)m).ToArray();

    public override int Height => VggPreprocess.DefaultSize;
    public override int Width => VggPreprocess.DefaultSize;

    public override object PreprocessConfig => new
    {
        decode = "pil-rgb", resize = new[] { Height, Width }, filter = "pil-bilinear", stored = "uint8 RGB planes 3x225x225",
        input = "BGR minus [103.939, 116.779, 123.68], 0-255",
    };

    protected override void Fill(ReadOnlySpan<byte> rgbPlanes, int c, Span<float> channel)
    {
        var src = rgbPlanes.Slice((2 - c) * channel.Length, channel.Length);   // BGR plane c is stored RGB plane 2 − c
        double mean = VggPreprocess.MeanBgr[c];
        // float64 subtraction, then float32, as NumPy does before astype(float32)
        for (int p = 0; p < channel.Length; p++) channel[p] = (float)(src[p] - mean);
    }

    public override PgIg.Plotting.GridImage Display(string label, float[] input) => PgIg.Plotting.GridImage.FromCaffeBgr(label, input, MeanBgr);
}
