using PgIg.Pipeline;
using static TorchSharp.torch;

namespace PgIg.Tracks;

/// <summary>
/// How a track that reads image files stores a photo and turns it into a model input: photos are decoded to RGB,
/// resized to <see cref="Height"/>×<see cref="Width"/> (Pillow bilinear) and stored as uint8 R, G, B planes; the
/// model's channel order and normalisation are applied on load.
/// </summary>
public abstract class ImageInput
{
    public abstract int Height { get; }
    public abstract int Width { get; }
    /// <summary>The Preprocess key's config slice: everything that decides the stored pixels and the model input.</summary>
    public abstract object PreprocessConfig { get; }
    /// <summary>Writes channel <paramref name="c"/> (model order) of the input, normalised, from the stored R, G, B planes.</summary>
    protected abstract void Fill(ReadOnlySpan<byte> rgbPlanes, int c, Span<float> channel);
    /// <summary>How to show one model input (C·H·W, normalised) in a figure.</summary>
    public abstract PgIg.Plotting.GridImage Display(string label, float[] input);

    public Tensor ToInput(IReadOnlyList<ImageRow> rows)
    {
        int plane = Height * Width;
        var buf = new float[rows.Count * 3 * plane];
        VggImageTrack.ParallelFor(rows.Count, i =>
        {
            var px = rows[i].Pixels;
            if (px.Length != 3 * plane) throw new InvalidDataException($"preprocessed image {rows[i].ImageId} has {px.Length} bytes, expected 3×{Height}×{Width}; rerun Preprocess");
            for (int c = 0; c < 3; c++) Fill(px, c, buf.AsSpan((i * 3 + c) * plane, plane));
        });
        return TorchSharp.torch.tensor(buf, new long[] { rows.Count, 3, Height, Width });
    }
}
