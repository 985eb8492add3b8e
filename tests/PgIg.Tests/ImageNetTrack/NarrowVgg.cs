using PgIg.Formats;

namespace PgIg.Tests.ImageNetTrack;

/// <summary>
/// A VGG16 with every width divided by 16 (convs 4…32, fc6/fc7 256) and 10 classes, written as the original's
/// npz files (Lasagne layout: dense stored (in, out)) with seeded random weights and patterns. The input must
/// still be 3×225×225: fc6 takes 32 × 7 × 7 = 1568 inputs.
/// </summary>
public static class NarrowVgg
{
    public static readonly long[] ConvWidths = [4, 4, 8, 8, 16, 16, 16, 32, 32, 32, 32, 32, 32];
    public const long Fc = 256, Classes = 10;

    /// <summary>Weight shapes in file layout: conv (out, in, 3, 3), dense (in, out).</summary>
    public static List<long[]> FileShapes()
    {
        var shapes = new List<long[]>();
        long prev = 3;
        foreach (var w in ConvWidths) { shapes.Add([w, prev, 3, 3]); prev = w; }
        shapes.Add([prev * 7 * 7, Fc]);
        shapes.Add([Fc, Fc]);
        shapes.Add([Fc, Classes]);
        return shapes;
    }

    /// <summary>He-scaled normal weights; conv1_1 is scaled down by 1/128 so 0–255 inputs give O(1) logits (no saturated softmax).</summary>
    public static void WriteWeights(string path, int seed, Func<int, long[], long[]>? reshape = null, string dtype = "<f4", int skipKey = -1)
    {
        var rng = new Random(seed);
        using var npz = new NpzWriter(path);
        var shapes = FileShapes();
        for (int i = 0; i < shapes.Count; i++)
        {
            var shape = reshape?.Invoke(2 * i, shapes[i]) ?? shapes[i];
            long fanIn = i < 13 ? shape.Skip(1).Aggregate(1L, (a, b) => a * b) : shape[0];
            double std = Math.Sqrt(2.0 / fanIn) / (i == 0 ? 128 : 1);
            var w = Normal(rng, shape.Aggregate(1L, (a, b) => a * b), std);
            long outDim = i < 13 ? shapes[i][0] : shapes[i][1];
            var bShape = reshape?.Invoke(2 * i + 1, [outDim]) ?? [outDim];
            var b = Normal(rng, bShape.Aggregate(1L, (a, x) => a * x), 0.01);
            if (2 * i != skipKey) Add(npz, $"arr_{2 * i}", w, shape, dtype);
            if (2 * i + 1 != skipKey) Add(npz, $"arr_{2 * i + 1}", b, bShape, dtype);
        }
    }

    /// <summary>Patterns uniform in [0, 2), so W⊙A clearly differs from W.</summary>
    public static void WritePatterns(string path, int seed, Func<int, long[], long[]>? reshape = null)
    {
        var rng = new Random(seed);
        using var npz = new NpzWriter(path);
        var shapes = FileShapes();
        for (int i = 0; i < shapes.Count; i++)
        {
            var shape = reshape?.Invoke(i, shapes[i]) ?? shapes[i];
            npz.Add($"A_{i}", Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(2 * rng.NextDouble())).ToArray(), shape);
        }
    }

    static void Add(NpzWriter npz, string key, float[] data, long[] shape, string dtype)
    {
        if (dtype == "<f4") npz.Add(key, data, shape);
        else npz.Add(key, data.Select(x => (long)x).ToArray(), shape); // a wrong dtype (<i8) for error tests
    }

    static float[] Normal(Random rng, long n, double std)
    {
        var r = new float[n];
        for (long i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            r[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return r;
    }

    /// <summary>root/bee/{bee,bee2}.jpg, root/castle/{castle,castle2}.jpg, root/elephant/elephant.png from the fixture photos.</summary>
    public static string MakeImageFolder(string root)
    {
        string fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures", "images");
        foreach (var (cls, files) in new[] { ("bee", new[] { "bee.jpg", "bee2.jpg" }), ("castle", ["castle.jpg", "castle2.jpg"]), ("elephant", ["elephant.png"]) })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            foreach (var f in files)
                File.Copy(Path.Combine(fixtures, f.Replace("2.", ".", StringComparison.Ordinal)), Path.Combine(root, cls, f));
        }
        return root;
    }
}
