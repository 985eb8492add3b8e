using PgIg.Config;

namespace PgIg.Tracks;

/// <summary>A custom model's input (<c>model.input</c>): planes in its channel order, <c>(pixel · scale − mean) / std</c> per channel.</summary>
public sealed class ConfiguredInput(InputConfig input) : ImageInput
{
    public override int Height => input.Height;
    public override int Width => input.Width;

    public override object PreprocessConfig => new
    {
        decode = "pil-rgb", resize = new[] { Height, Width }, filter = "pil-bilinear", stored = "uint8 RGB planes", input = input.ToKeyObject(),
    };

    int Source(int c) => input.Channels == ChannelOrder.Rgb ? c : 2 - c;

    protected override void Fill(ReadOnlySpan<byte> rgbPlanes, int c, Span<float> channel)
    {
        var src = rgbPlanes.Slice(Source(c) * channel.Length, channel.Length);
        double scale = input.Scale, mean = input.Mean[c], std = input.Std[c];
        // in float64, then rounded once to float32
        for (int p = 0; p < channel.Length; p++) channel[p] = (float)((src[p] * scale - mean) / std);
    }

    /// <summary>Undoes the normalisation back to 0–1 RGB, per channel (a figure's own scaling is one factor for all channels).</summary>
    public override PgIg.Plotting.GridImage Display(string label, float[] values)
    {
        int plane = Height * Width;
        var rgb = new float[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < plane; p++)
                rgb[Source(c) * plane + p] = (float)((values[c * plane + p] * input.Std[c] + input.Mean[c]) / input.Scale / 255);
        return new PgIg.Plotting.GridImage(label, rgb, 3, Bgr: false, [0f], 1f);
    }
}
