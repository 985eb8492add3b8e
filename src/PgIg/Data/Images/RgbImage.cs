namespace PgIg.Data.Images;

/// <summary>An 8-bit RGB image, pixels row-major, channels interleaved (HWC).</summary>
public sealed record RgbImage
{
    public RgbImage(int width, int height, byte[] rgb)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(rgb);
        if (rgb.LongLength != (long)width * height * 3)
            throw new ArgumentException($"expected {(long)width * height * 3} bytes for {width}x{height} RGB, got {rgb.LongLength}", nameof(rgb));
        Width = width;
        Height = height;
        Rgb = rgb;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Rgb { get; }

    public byte this[int x, int y, int channel] => Rgb[((y * Width) + x) * 3 + channel];
}
