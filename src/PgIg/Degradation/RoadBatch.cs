using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Degradation;

/// <summary>
/// ROAD replacement (<see cref="NoisyLinearImputer"/>) for a batch of images, advanced patch by patch as a deletion
/// curve removes them; both degradation engines read their degraded images from it. Images are imputed in parallel,
/// each on its own, so the result does not depend on the batch.
/// </summary>
public sealed class RoadBatch
{
    readonly NoisyLinearImputer[] _images;
    readonly int _c, _h, _w, _p, _gw;

    /// <param name="x">B×C×H×W model inputs.</param>
    /// <param name="noise">B×C×H×W noise added to the imputed pixels, in input units.</param>
    public RoadBatch(Tensor x, Tensor noise, int patchSize)
    {
        if (!x.shape.SequenceEqual(noise.shape))
            throw new ArgumentException($"ROAD noise has shape ({string.Join(", ", noise.shape)}), the images ({string.Join(", ", x.shape)})");
        int b = (int)x.shape[0];
        _c = (int)x.shape[1]; _h = (int)x.shape[2]; _w = (int)x.shape[3]; _p = patchSize; _gw = _w / patchSize;
        using var scope = torch.NewDisposeScope();
        var xs = x.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var ns = noise.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        int size = _c * _h * _w;
        _images = new NoisyLinearImputer[b];
        for (int k = 0; k < b; k++)
            _images[k] = new NoisyLinearImputer(xs.AsSpan(k * size, size).ToArray(), _c, _h, _w, ns.AsSpan(k * size, size).ToArray());
    }

    public int Count => _images.Length;

    /// <summary>Working memory per image: clean image and noise (float32), solution (float64), mask, and a solve's scratch.</summary>
    public static long BytesPerImage(long channels, long height, long width) => channels * height * width * (4 + 4 + 8) + height * width * (1 + 6 * 8 + 8 * 12);

    /// <summary>Removes patch <paramref name="patchOf"/>(k) (index row · G + column) of each image k; returns each image's changed box.</summary>
    public PixelBox[] RemovePatch(Func<int, long> patchOf)
    {
        var boxes = new PixelBox[_images.Length];
        Parallel.For(0, _images.Length, k =>
        {
            long q = patchOf(k);
            int r = (int)(q / _gw) * _p, c = (int)(q % _gw) * _p;
            boxes[k] = _images[k].Remove(new PixelBox(r, r + _p, c, c + _p));
        });
        return boxes;
    }

    /// <summary>The current images, B×C×H×W float32 on the CPU.</summary>
    public Tensor Images()
    {
        int size = _c * _h * _w;
        var buf = new float[_images.Length * size];
        Parallel.For(0, _images.Length, k => _images[k].CopyTo(_images[k].All, buf.AsSpan(k * size, size)));
        return torch.tensor(buf, new long[] { _images.Length, _c, _h, _w });
    }

    /// <summary>Image <paramref name="k"/>'s current pixels in <paramref name="box"/>, 1×C×h×w float32 on the CPU.</summary>
    public Tensor Window(int k, PixelBox box)
    {
        int bh = box.R1 - box.R0, bw = box.C1 - box.C0;
        var buf = new float[_c * bh * bw];
        _images[k].CopyTo(box, buf);
        return torch.tensor(buf, new long[] { 1, _c, bh, bw });
    }

    /// <summary>Conjugate-gradient iterations so far, summed over the images.</summary>
    public long Iterations => _images.Sum(i => i.Iterations);
}
