using PgIg.Formats;
using PgIg.Models;
using PgIg.Pipeline;
using TorchSharp;
using Xunit;

namespace PgIg.Tests.ImageNetTrack;

public sealed class Vgg16NpzTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-vggnpz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Full_size_spec_from_widths_is_the_original_layer_table()
    {
        var s = Architectures.Vgg16;
        Assert.Equal(16, s.WeightShapes.Count);
        Assert.Equal([64L, 3, 3, 3], s.WeightShapes[0]);
        Assert.Equal([512L, 512, 3, 3], s.WeightShapes[12]);
        Assert.Equal([4096L, 25088], s.WeightShapes[13]);
        Assert.Equal([1000L, 4096], s.WeightShapes[15]);
        Assert.Equal(138_357_544L, s.WeightShapes.Sum(w => w.Aggregate(1L, (a, b) => a * b) + w[0])); // spec §2.2 parameter count
    }

    [Fact]
    public void Narrow_weights_load_with_dense_layers_transposed_and_build_a_working_net()
    {
        NarrowVgg.WriteWeights(P("w.npz"), seed: 3);
        var rows = Vgg16Npz.ReadWeights(P("w.npz")).ToList();
        Assert.Equal(32, rows.Count);
        Assert.Equal(Enumerable.Range(0, 32), rows.Select(r => r.Index));
        Assert.Equal([256L, 1568], rows[26].Shape);   // fc6 (out, in) after the transpose
        Assert.Equal([4L, 3, 3, 3], rows[0].Shape);   // conv copied unchanged

        using var npz = new NpzReader(P("w.npz"));
        var file = npz.ReadFloat32("arr_26", [1568, 256]);
        var loaded = Float32.FromBytes(rows[26].Values);
        foreach (var (r, c) in new[] { (0, 0), (1, 0), (0, 1), (1567, 255), (700, 13) })
            Assert.Equal(file[r * 256 + c], loaded[c * 1568 + r]);
        Assert.Equal(npz.ReadFloat32("arr_0", [4, 3, 3, 3]), Float32.FromBytes(rows[0].Values));

        var spec = Architectures.Vgg16FromWeightShapes(rows.Where(r => r.Name.StartsWith("W_", StringComparison.Ordinal)).Select(r => r.Shape).ToList());
        using var net = TensorStore.ModelFromRows(spec, rows);
        Assert.Equal(10, net.NumClasses);
        using var x = torch.rand(2, 3, 225, 225) * 255 - 120;
        using var logits = net.Forward(x);
        Assert.Equal([2L, 10], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void Patterns_load_transposed_and_ignore_r_and_mu_keys()
    {
        NarrowVgg.WritePatterns(P("a.npz"), seed: 4);
        var rows = Vgg16Npz.ReadPatterns(P("a.npz")).ToList();
        Assert.Equal(16, rows.Count);
        Assert.Equal([10L, 256], rows[15].Shape);
        using var npz = new NpzReader(P("a.npz"));
        var file = npz.ReadFloat32("A_15", [256, 10]);
        Assert.Equal(file[5 * 10 + 7], Float32.FromBytes(rows[15].Values)[7 * 256 + 5]);
    }

    [Fact]
    public void Inconsistent_conv_channels_name_the_key_and_both_shapes()
    {
        NarrowVgg.WriteWeights(P("w.npz"), 1, (k, s) => k == 2 ? [4, 5, 3, 3] : s);
        var e = Assert.Throws<NpzFormatException>(() => Vgg16Npz.ReadWeights(P("w.npz")).ToList());
        Assert.Contains("'arr_2'", e.Message);
        Assert.Contains("conv1_2", e.Message);
        Assert.Contains("(4, 5, 3, 3)", e.Message);
        Assert.Contains("expected (4, 4, 3, 3)", e.Message);
    }

    [Fact]
    public void Wrong_fc6_input_size_is_explained_by_the_conv_width()
    {
        NarrowVgg.WriteWeights(P("w.npz"), 1, (k, s) => k == 26 ? [1500, 256] : s);
        var e = Assert.Throws<NpzFormatException>(() => Vgg16Npz.ReadWeights(P("w.npz")).ToList());
        Assert.Contains("'arr_26'", e.Message);
        Assert.Contains("(1500, 256)", e.Message);
        Assert.Contains("expected (1568, 256)", e.Message);
        Assert.Contains("32 channels × 7 × 7", e.Message);
    }

    [Fact]
    public void Bias_of_the_wrong_length_is_rejected()
    {
        NarrowVgg.WriteWeights(P("w.npz"), 1, (k, s) => k == 29 ? [255] : s);
        var e = Assert.Throws<NpzFormatException>(() => Vgg16Npz.ReadWeights(P("w.npz")).ToList());
        Assert.Contains("'arr_29'", e.Message);
        Assert.Contains("expected (256,)", e.Message);
    }

    [Fact]
    public void Missing_key_and_wrong_dtype_are_reported()
    {
        NarrowVgg.WriteWeights(P("missing.npz"), 1, skipKey: 5);
        var e = Assert.Throws<NpzFormatException>(() => Vgg16Npz.ReadWeights(P("missing.npz")).ToList());
        Assert.Contains("'arr_5' is missing", e.Message);

        NarrowVgg.WriteWeights(P("ints.npz"), 1, dtype: "<i8");
        e = Assert.Throws<NpzFormatException>(() => Vgg16Npz.ReadWeights(P("ints.npz")).ToList());
        Assert.Contains("'arr_0' has dtype <i8", e.Message);
    }

    [Fact]
    public void Truncated_file_says_to_download_again()
    {
        NarrowVgg.WriteWeights(P("w.npz"), 1);
        var bytes = File.ReadAllBytes(P("w.npz"));
        File.WriteAllBytes(P("cut.npz"), bytes[..(bytes.Length * 2 / 3)]);
        var e = Assert.Throws<NpzFormatException>(() => Vgg16Npz.ReadWeights(P("cut.npz")).ToList());
        Assert.Contains("truncated or corrupted", e.Message);
    }

    [Fact]
    public void Pattern_file_with_a_wrong_layer_shape_names_the_pattern_key()
    {
        NarrowVgg.WritePatterns(P("a.npz"), 1, (i, s) => i == 14 ? [256, 255] : s);
        var e = Assert.Throws<NpzFormatException>(() => Vgg16Npz.ReadPatterns(P("a.npz")).ToList());
        Assert.Contains("'A_15'", e.Message); // fc7 giving 255 outputs breaks fc8's input: reported where the chain breaks
        Assert.Contains("expected (255, 10)", e.Message);
    }
}
