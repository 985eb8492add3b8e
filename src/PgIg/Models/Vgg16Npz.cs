using PgIg.Formats;
using PgIg.Pipeline;

namespace PgIg.Models;

/// <summary>
/// The original's VGG16 files (spec §2.2, §3.1): weights <c>arr_0…arr_31</c> (W, b alternating, conv1_1 to fc8)
/// and patterns <c>A_0…A_15</c>, dense layers stored Lasagne-style (in, out). Any widths are accepted as long
/// as the 13-conv/3-dense layout is consistent; tensors come out in PyTorch layout as <see cref="TensorRow"/>s.
/// </summary>
public static class Vgg16Npz
{
    public const int Layers = 16;
    static readonly string[] LayerNames =
        ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv4_1", "conv4_2", "conv4_3",
         "conv5_1", "conv5_2", "conv5_3", "fc6", "fc7", "fc8"];
    static readonly string[] FloatDtypes = ["<f4", "<f8"];

    public static string LayerName(int layer) => LayerNames[layer];

    public static string WeightKey(int layer) => $"arr_{2 * layer}";
    public static string BiasKey(int layer) => $"arr_{2 * layer + 1}";
    public static string PatternKey(int layer) => $"A_{layer}";

    /// <summary>
    /// Checks a weights npz (keys and shapes, at once), then yields rows W_i / b_i (index 2i / 2i+1) in PyTorch
    /// layout as the model artifact stores them, in chunks of at most <see cref="TensorRow.ChunkBytes"/> read from the
    /// file as they are enumerated: only a dense layer's member is held whole, for its transposition. Enumerate it once.
    /// </summary>
    public static IEnumerable<TensorRow> ReadWeights(string path) => ReadWeights(path, TensorRow.ChunkBytes);

    /// <summary><see cref="ReadWeights(string)"/> in chunks of at most <paramref name="chunkBytes"/> (a multiple of 4).</summary>
    public static IEnumerable<TensorRow> ReadWeights(string path, int chunkBytes)
    {
        List<long[]> fileShapes, biasShapes = new();
        using (var npz = new NpzReader(path))
        {
            RequireKeys(npz, "arr_", 2 * Layers, "W and b of 13 conv + 3 dense layers, positional np.savez keys");
            fileShapes = CheckLayout(path, Enumerable.Range(0, Layers).Select(i => Header(npz, WeightKey(i)).Shape).ToList(), WeightKey, "weight").ToList();
            for (int i = 0; i < Layers; i++)
            {
                var bShape = Header(npz, BiasKey(i)).Shape;
                long[] expected = [fileShapes[i][i < 13 ? 0 : 1]];
                if (!bShape.AsSpan().SequenceEqual(expected))
                    throw new NpzFormatException($"{path}: key '{BiasKey(i)}' ({LayerNames[i]} bias) has shape {NpyHeader.FormatShape(bShape)}, expected {NpyHeader.FormatShape(expected)}");
                biasShapes.Add(expected);
            }
        }
        return Rows();

        IEnumerable<TensorRow> Rows()
        {
            using var npz = new NpzReader(path);
            for (int i = 0; i < Layers; i++)
            {
                foreach (var r in ToRows(npz, 2 * i, $"W_{i}", WeightKey(i), fileShapes[i], transpose: i >= 13, chunkBytes)) yield return r;
                foreach (var r in ToRows(npz, 2 * i + 1, $"b_{i}", BiasKey(i), biasShapes[i], transpose: false, chunkBytes)) yield return r;
            }
        }
    }

    /// <summary>
    /// Checks a patterns npz (A_0…A_15; the r_/mu_ keys of full pattern files are ignored, as the original's loader
    /// does with ['A']), then yields rows A_i (index i) in PyTorch layout, in chunks as <see cref="ReadWeights"/>. Enumerate it once.
    /// </summary>
    public static IEnumerable<TensorRow> ReadPatterns(string path) => ReadPatterns(path, TensorRow.ChunkBytes);

    /// <summary><see cref="ReadPatterns(string)"/> in chunks of at most <paramref name="chunkBytes"/> (a multiple of 4).</summary>
    public static IEnumerable<TensorRow> ReadPatterns(string path, int chunkBytes)
    {
        IReadOnlyList<long[]> fileShapes;
        using (var npz = new NpzReader(path))
        {
            RequireKeys(npz, "A_", Layers, "one pattern per conv/dense layer");
            fileShapes = CheckLayout(path, Enumerable.Range(0, Layers).Select(i => Header(npz, PatternKey(i)).Shape).ToList(), PatternKey, "pattern");
        }
        return Rows();

        IEnumerable<TensorRow> Rows()
        {
            using var npz = new NpzReader(path);
            for (int i = 0; i < Layers; i++)
                foreach (var r in ToRows(npz, i, $"A_{i}", PatternKey(i), fileShapes[i], transpose: i >= 13, chunkBytes)) yield return r;
        }
    }

    /// <summary>Shapes as stored in the file for a model whose PyTorch weight shapes are given (dense transposed back).</summary>
    public static long[] FileShape(long[] torchShape) => torchShape.Length == 2 ? [torchShape[1], torchShape[0]] : torchShape;

    /// <summary>
    /// Checks that 16 weight-layout shapes (file layout) form a VGG16: 3×3 convs chaining their channels, fc6 taking
    /// last-conv × 7 × 7 inputs, fc7/fc8 chaining. Messages name the key, the expected and the found shape.
    /// </summary>
    public static IReadOnlyList<long[]> CheckLayout(string path, IReadOnlyList<long[]> shapes, Func<int, string> keyOf, string what)
    {
        const long Spatial = 7; // 225 → 112 → 56 → 28 → 14 → 7
        long prev = 3;
        for (int i = 0; i < Layers; i++)
        {
            var s = shapes[i];
            long[] expected;
            if (i < 13)
            {
                long outC = s.Length == 4 ? s[0] : -1;
                expected = [outC, prev, 3, 3];
                if (s.Length == 4 && s[0] > 0 && s.AsSpan().SequenceEqual(expected)) { prev = s[0]; continue; }
                string why = i == 0 ? "the input has 3 (BGR) channels" : $"its input channels must equal {LayerNames[i - 1]}'s {prev} outputs";
                throw new NpzFormatException($"{path}: key '{keyOf(i)}' ({LayerNames[i]} {what}, conv (out, in, 3, 3)) has shape {NpyHeader.FormatShape(s)}, expected {Format(expected)}: {why}");
            }
            long inF = i == 13 ? prev * Spatial * Spatial : prev;
            long outF = s.Length == 2 ? s[1] : -1;
            expected = [inF, outF];
            if (s.Length == 2 && s[1] > 0 && s.AsSpan().SequenceEqual(expected)) { prev = s[1]; continue; }
            string reason = i == 13
                ? $"fc6 takes conv5_3's {prev} channels × 7 × 7 = {inF} inputs"
                : $"its inputs must equal {LayerNames[i - 1]}'s {prev} outputs";
            throw new NpzFormatException($"{path}: key '{keyOf(i)}' ({LayerNames[i]} {what}, dense stored (in, out)) has shape {NpyHeader.FormatShape(s)}, expected {Format(expected)}: {reason}");
        }
        return shapes;
    }

    // -1 marks a free dimension (any width) in messages.
    static string Format(long[] shape) => "(" + string.Join(", ", shape.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ")";

    static void RequireKeys(NpzReader npz, string prefix, int count, string meaning)
    {
        var found = npz.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var missing = Enumerable.Range(0, count).Select(i => $"{prefix}{i}").Where(k => !npz.Contains(k)).ToList();
        if (missing.Count > 0 || found.Count != count)
        {
            string detail = missing.Count > 0 ? $"key '{missing[0]}' is missing" : $"it has {found.Count} '{prefix}*' keys";
            throw new NpzFormatException($"{npz.Path}: {detail}; expected exactly {prefix}0..{prefix}{count - 1} ({meaning}); found keys: {string.Join(", ", npz.Keys.Take(40))}{(npz.Keys.Count > 40 ? ", …" : "")}");
        }
    }

    static NpyHeader Header(NpzReader npz, string key)
    {
        var h = npz.ReadHeader(key);
        if (!FloatDtypes.Contains(h.Dtype))
            throw new NpzFormatException($"{npz.Path}: key '{key}' has dtype {h.Dtype}, expected float32 (<f4) or float64 (<f8)");
        return h;
    }

    /// <summary>One member as chunk rows: read chunk by chunk, or (a dense layer) read whole and transposed one
    /// block of output rows at a time.</summary>
    static IEnumerable<TensorRow> ToRows(NpzReader npz, int index, string name, string key, long[] fileShape, bool transpose, int chunkBytes)
    {
        if (!transpose)
        {
            long offset = 0;
            foreach (var bytes in npz.ReadFloat32Chunks(key, fileShape, chunkBytes))
            {
                yield return new TensorRow { Index = index, Name = name, Shape = fileShape, Offset = offset, Values = bytes };
                offset += bytes.Length / sizeof(float);
            }
            yield break;
        }
        // Lasagne dense (in, out) → PyTorch (out, in), as load_params' .T; tiled so fc6 (25088×4096) stays cache-friendly.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the float32 payload encoding assumes a little-endian host");
        var data = npz.ReadFloat32(key, fileShape);
        int rows = checked((int)fileShape[0]), cols = checked((int)fileShape[1]);
        int block = Math.Max(1, chunkBytes / sizeof(float) / rows);
        for (int c0 = 0; c0 < cols; c0 += block)
        {
            int c1 = Math.Min(cols, c0 + block);
            var bytes = new byte[(long)(c1 - c0) * rows * sizeof(float)];
            const int Tile = 64;
            Parallel.For(0, (c1 - c0 + Tile - 1) / Tile, ct =>
            {
                var outSpan = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
                int t0 = c0 + ct * Tile, t1 = Math.Min(c1, t0 + Tile);
                for (int r0 = 0; r0 < rows; r0 += Tile)
                {
                    int r1 = Math.Min(rows, r0 + Tile);
                    for (int c = t0; c < t1; c++)
                        for (int r = r0; r < r1; r++) outSpan[(c - c0) * rows + r] = data[(long)r * cols + c];
                }
            });
            yield return new TensorRow { Index = index, Name = name, Shape = [cols, rows], Offset = (long)c0 * rows, Values = bytes };
        }
    }
}
