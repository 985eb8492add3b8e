using PgIg.Config;
using PgIg.Formats;
using PgIg.Models;
using PgIg.Tracks;
using Xunit;

namespace PgIg.Tests.CustomModel;

/// <summary>Every misfit between model.layers, model.input and the weights file is a one-line error that says where and what.</summary>
public sealed class CustomModelErrorTests : IDisposable
{
    readonly CustomModelExample _ex = new();

    public void Dispose() => _ex.Dispose();

    static string Line(string yaml, string containing) =>
        (Array.FindIndex(yaml.Split('\n'), l => l.Contains(containing, StringComparison.Ordinal)) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The config error for an edited example, which must point at the edited line.</summary>
    ConfigException ConfigError(string from, string to, string? lineOf = null)
    {
        string yaml = _ex.Yaml().Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(_ex.Yaml(), yaml);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "c.yaml"));
        Assert.StartsWith($"c.yaml:{Line(yaml, lineOf ?? to)}:", e.Message);
        return e;
    }

    [Theory]
    [InlineData("{type: conv, name: features.0, out: 4, kernel: 3, padding: 1}", "{type: conv, name: features.0, out: 4, kernel: 40}", "a 40×40 kernel with padding 0 does not fit the 32×48 map")]
    [InlineData("{type: max_pool, kernel: 3, stride: 2}", "{type: max_pool, kernel: 33}", "a 33×33 window does not fit the 32×48 map")]
    [InlineData("    - flatten\n", "", "gets a 2×3 map per channel; add '- flatten' before it")]
    [InlineData("{type: batch_norm, name: features.1}", "relu\n    - {type: batch_norm, name: features.1}", "must directly follow the conv or linear layer it normalises")]
    [InlineData("{type: adaptive_avg_pool, size: [2, 3]}", "{type: adaptive_avg_pool, size: [3, 3]}", "pools the 4×6 map it gets to 3×3")]
    [InlineData("{type: adaptive_avg_pool, size: [2, 3]}", "flatten\n    - {type: avg_pool, kernel: 2}", "comes after the map was flattened")]
    [InlineData("{type: linear, name: classifier.4, out: 5}", "{type: linear, name: classifier.4, out: 5}\n    - {type: max_pool, kernel: 2}", "comes after the map was flattened")]
    [InlineData("{type: linear, name: classifier.4, out: 5}", "{type: conv2d, name: classifier.4}", "has type 'conv2d' (did you mean 'conv'?)")]
    [InlineData("{type: linear, name: classifier.4, out: 5}", "{type: linear, out: 5}", "(linear) needs a 'name': the state_dict prefix")]
    [InlineData("{type: avg_pool, kernel: 2}", "{type: avg_pool, kernel: 2, padding: 1}", "unknown field 'model.layers[6].padding'")]
    [InlineData("{type: avg_pool, kernel: 2}", "max_pool", "a max_pool layer needs its parameters, e.g. {type: max_pool, kernel: 2}")]
    public void Layer_list_errors_name_the_layer_and_its_line(string from, string to, string message)
    {
        // the error points at the new last line of the edit, or (a removed flatten) at the linear layer that misses it
        string marked = to.Length == 0 ? to : to + " # edited";
        string lineOf = to.Length == 0 ? "classifier.1" : "# edited";
        var e = ConfigError(from, marked, lineOf);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Dropout_may_keep_its_rate_and_other_layers_may_be_spelled_out()
    {
        var c = ConfigLoader.Parse(_ex.Yaml().Replace("    - dropout\n", "    - {type: dropout, p: 0.3}\n", StringComparison.Ordinal)
            .Replace("    - flatten\n", "    - {type: flatten}\n", StringComparison.Ordinal), "c.yaml");
        Assert.Equal(LayerConfig.Dropout, c.Model.Custom!.Layers[12].Type);
        Assert.Equal(LayerConfig.Flatten, c.Model.Custom.Layers[11].Type);
        Assert.Contains("unknown field 'model.layers[2].p'", Assert.Throws<ConfigException>(() => ConfigLoader.Parse(
            _ex.Yaml().Replace("    - relu\n", "    - {type: relu, p: 1}\n", StringComparison.Ordinal), "c.yaml")).Message);
    }

    [Theory]
    [InlineData("size: [32, 48]", "size: [32]", "must list two sizes, [height, width]")]
    [InlineData("channels: rgb", "channels: rbg", "is 'rbg' (did you mean 'rgb'?)")]
    [InlineData("scale: 1/255", "scale: 1/0", "must be a positive number or a fraction such as 1/255")]
    [InlineData("mean: [0.485, 0.456, 0.406]", "mean: [0.485, 0.456]", "must list 3 values, one per channel")]
    [InlineData("std: [0.229, 0.224, 0.225]", "std: [0.229, 0, 0.225]", "must be a positive number or a list of 3")]
    public void Input_errors_name_the_field(string from, string to, string message) =>
        Assert.Contains(message, ConfigError(from, to).Message);

    [Fact]
    public void A_custom_model_needs_its_input_weights_an_image_track_and_estimated_patterns()
    {
        Assert.Contains("needs model.input: size (height, width), mean and std", ConfigError("  input:", "  inputs:", lineOf: "architecture: custom").Message);
        Assert.Contains("needs model.weights", ConfigError("  weights: ", "  weights_: ", lineOf: "architecture: custom").Message);
        Assert.Contains("use track: image-folder", ConfigError("track: image-folder", "track: fashion-mnist", lineOf: "architecture: custom").Message);
        Assert.Contains("set patterns.source: compute", ConfigError("source: compute", "source: npz").Message);
        Assert.Contains("describes a model of architecture custom", ConfigError("architecture: custom", "architecture: vgg16", lineOf: "size: [32, 48]").Message);
    }

    async Task<Exception> FetchError(Func<string, string> edit)
    {
        var plan = _ex.Plan(_ex.Config(edit));
        return await Assert.ThrowsAnyAsync<Exception>(() => plan.RunAsync("Fetch"));
    }

    [Theory]
    [InlineData("name: features.0, out: 4, kernel: 3", "name: features.0, out: 5, kernel: 3",
        "model.layers[0] (conv 'features.0'): parameter 'features.0.weight' in", "has shape (4, 3, 3, 3), expected (5, 3, 3, 3) (out, in, kernel, kernel): in = the 3 input channels, kernel 3")]
    [InlineData("name: features.4, out: 4, kernel: 3, stride: 2, padding: 1", "name: features.4, out: 4, kernel: 5, stride: 2, padding: 2",
        "model.layers[4] (conv 'features.4'):", "has shape (4, 4, 3, 3), expected (4, 4, 5, 5)")]
    [InlineData("size: [2, 3]}", "size: [4, 6]}",
        "model.layers[13] (linear 'classifier.1'): parameter 'classifier.1.weight'", "has shape (8, 36), expected (8, 144) (out, in): in = the flattened map, 6 channels × 4×6 positions")]
    [InlineData("name: classifier.4, out: 5", "name: classifier.4, out: 10",
        "model.layers[16] (linear 'classifier.4')", "has shape (5, 8), expected (10, 8)")]
    [InlineData("name: features.0,", "name: feature.0,",
        "parameter 'feature.0.weight' is not in", "(did you mean 'features.0.weight'?)")]
    [InlineData("    - {type: batch_norm, name: features.8}\n", "",
        "model.layers does not use 4 parameter(s) of", "features.8.bias, features.8.running_mean, features.8.running_var, features.8.weight")]
    [InlineData("padding: 1, bias: false}", "padding: 1}",
        "parameter 'features.7.bias' is not in", "write bias: false")]
    [InlineData("name: features.0, out: 4, kernel: 3, padding: 1}", "name: features.0, out: 4, kernel: 3, padding: 1, bias: false}",
        "says bias: false, but", "has 'features.0.bias'")]
    public async Task Weight_errors_name_the_layer_the_parameter_and_both_shapes(string from, string to, string message, string detail)
    {
        var e = await FetchError(y => y.Replace(from, to, StringComparison.Ordinal));
        Assert.IsType<ConfigException>(e);
        Assert.Contains(message, e.Message);
        Assert.Contains(detail, e.Message);
        Assert.Contains(Path.Combine(_ex.Dir, "config.yaml") + ":", e.Message);
    }

    [Fact]
    public async Task Names_saved_from_DataParallel_get_the_prefix_hint()
    {
        var dict = StateDict.Read(CustomModelExample.Fixture("tiny_vgg.npz"));
        string file = Path.Combine(_ex.Dir, "parallel.npz");
        using (var npz = new NpzWriter(file))
            foreach (var (k, t) in dict.Tensors) npz.Add("module." + k, t.Values, t.Shape);
        var e = await FetchError(y => y.Replace(CustomModelExample.Fixture("tiny_vgg.pt"), file, StringComparison.Ordinal));
        Assert.Contains("parameter 'features.0.weight' is not in", e.Message);
        Assert.Contains("it has 'module.features.0.weight': give the layer its full name, 'module.features.0'", e.Message);
    }

    [Fact]
    public async Task Unreadable_and_unpinned_files_are_explained()
    {
        string legacy = Path.Combine(_ex.Dir, "legacy.pt");
        File.WriteAllBytes(legacy, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]);
        var e = await FetchError(y => y.Replace(CustomModelExample.Fixture("tiny_vgg.pt"), legacy, StringComparison.Ordinal));
        Assert.Contains("legacy format", e.Message);

        var checkpoint = await FetchError(y => y.Replace("tiny_vgg.pt", "checkpoint.pt", StringComparison.Ordinal));
        Assert.Contains("holds a dict of dicts (keys 'state_dict')", checkpoint.Message);
        Assert.Contains("torch.save(checkpoint['state_dict'], 'weights.pt')", checkpoint.Message);

        string text = Path.Combine(_ex.Dir, "weights.txt");
        File.WriteAllText(text, "not weights at all");
        Assert.Contains("not a weights file PgIg reads", (await FetchError(y => y.Replace(CustomModelExample.Fixture("tiny_vgg.pt"), text, StringComparison.Ordinal))).Message);

        var pinned = await FetchError(y => y.Replace("  architecture: custom\n", "  architecture: custom\n  weights_sha256: 00ff\n", StringComparison.Ordinal));
        Assert.IsType<FetchException>(pinned);
        Assert.Contains("model.weights_sha256 pins 00ff", pinned.Message);
    }
}
