using System.Globalization;
using PgIg.Models;
using YamlDotNet.RepresentationModel;

namespace PgIg.Config;

/// <summary>
/// Reads <c>model.input</c> and <c>model.layers</c> of <c>model.architecture: custom</c> (README "Your own model"), then checks
/// the layer list's geometry against the input size, so a misfit is reported before anything runs.
/// </summary>
static class CustomModelParser
{
    public static CustomModelConfig Parse(YamlNodeReader model, string file)
    {
        var inputReader = model.Map("input")
            ?? throw YamlNodeReader.Error(file, model.Node, "model.architecture custom needs model.input: size (height, width), mean and std of its normalisation (scale and channels are optional)");
        var input = ParseInput(inputReader, file);
        var seq = model.Seq("layers");
        if (seq is null || seq.Children.Count == 0)
            throw YamlNodeReader.Error(file, model.Node, $"model.architecture custom needs model.layers: the network's layers in order, e.g. {{type: conv, name: features.0, kernel: 3, padding: 1}}; types: {string.Join(", ", LayerConfig.Types)}");
        var layers = seq.Children.Select((node, i) => ParseLayer(file, node, i)).ToList();
        var custom = new CustomModelConfig(input, layers, Where(file, seq));
        CustomArchitecture.CheckGeometry(custom);
        return custom;
    }

    static string Where(string file, YamlNode node) => $"{file}:{node.Start.Line}:{node.Start.Column}";

    static InputConfig ParseInput(YamlNodeReader r, string file)
    {
        if (!r.Has("size")) throw YamlNodeReader.Error(file, r.Node, "model.input needs size: the height and width the model takes, [height, width] (or one number for a square)");
        var (h, w) = Pair(r, "size", file);
        var channels = r.Choice("channels", "rgb", "rgb", "bgr") == "rgb" ? ChannelOrder.Rgb : ChannelOrder.Bgr;
        double scale = Scale(r, file);
        if (!r.Has("mean") || !r.Has("std"))
            throw YamlNodeReader.Error(file, r.Node, "model.input needs mean and std: the per-channel normalisation the model was trained with, (pixel · scale − mean) / std, e.g. ImageNet's mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] with scale 1/255");
        var mean = PerChannel(r, "mean", file, positive: false);
        var std = PerChannel(r, "std", file, positive: true);
        r.RejectUnknown();
        return new InputConfig(h, w, channels, scale, mean, std);
    }

    /// <summary>One positive integer (a square) or a list of two.</summary>
    static (int, int) Pair(YamlNodeReader r, string key, string file)
    {
        var node = r.NodeOf(key);
        string field = $"{r.Path}.{key}";
        int Positive(YamlNode n)
        {
            if (n is YamlScalarNode { Value: { } v } && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && i >= 1) return i;
            throw YamlNodeReader.Error(file, n, $"field '{field}' must be a positive integer or a list [height, width] of two, got {Describe(n)}");
        }
        if (node is YamlSequenceNode s)
        {
            if (s.Children.Count != 2) throw YamlNodeReader.Error(file, s, $"field '{field}' must list two sizes, [height, width], got {s.Children.Count}");
            return (Positive(s.Children[0]), Positive(s.Children[1]));
        }
        int v = Positive(node);
        return (v, v);
    }

    /// <summary>A positive number or a fraction such as 1/255.</summary>
    static double Scale(YamlNodeReader r, string file)
    {
        if (!r.Has("scale")) return 1.0 / 255;
        var node = r.NodeOf("scale");
        string text = (node as YamlScalarNode)?.Value ?? "";
        var parts = text.Split('/');
        double value = double.NaN;
        if (parts.Length is 1 or 2 && parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            value = parts.Length == 1 ? Num(parts[0]) : Num(parts[0]) / Num(parts[1]);
        if (!double.IsFinite(value) || value <= 0)
            throw YamlNodeReader.Error(file, node, $"field '{r.Path}.scale' must be a positive number or a fraction such as 1/255 (what a 0–255 pixel is multiplied by before mean and std), got {Describe(node)}");
        return value;
    }

    static double Num(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>One number for every channel, or a list of three (the model's channel order).</summary>
    static IReadOnlyList<double> PerChannel(YamlNodeReader r, string key, string file, bool positive)
    {
        var node = r.NodeOf(key);
        string field = $"{r.Path}.{key}";
        double One(YamlNode n)
        {
            if (n is YamlScalarNode { Value: { } v } && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && (!positive || d > 0)) return d;
            throw YamlNodeReader.Error(file, n, $"field '{field}' must be {(positive ? "a positive number" : "a number")} or a list of {InputConfig.ChannelCount}, got {Describe(n)}");
        }
        if (node is YamlSequenceNode s)
        {
            if (s.Children.Count != InputConfig.ChannelCount)
                throw YamlNodeReader.Error(file, s, $"field '{field}' must list {InputConfig.ChannelCount} values, one per channel in model.input.channels order, got {s.Children.Count}");
            return s.Children.Select(One).ToArray();
        }
        double v = One(node);
        return Enumerable.Repeat(v, InputConfig.ChannelCount).ToArray();
    }

    static string Describe(YamlNode n) => n switch
    {
        YamlScalarNode s => $"'{s.Value}'",
        YamlSequenceNode => "a list",
        _ => "a mapping",
    };

    static LayerConfig ParseLayer(string file, YamlNode node, int index)
    {
        string path = $"model.layers[{index}]";
        string where = Where(file, node);
        string TypeError(string t) => $"'{path}' has type '{t}'{Suggest.DidYouMean(t, LayerConfig.Types)}; valid types: {string.Join(", ", LayerConfig.Types)}";
        if (node is YamlScalarNode { Value: { } scalar })
        {
            // a bare name for the layers without parameters
            if (scalar is LayerConfig.Relu or LayerConfig.Flatten or LayerConfig.Dropout) return new LayerConfig(index, scalar, where);
            if (!LayerConfig.Types.Contains(scalar)) throw YamlNodeReader.Error(file, node, TypeError(scalar));
            throw YamlNodeReader.Error(file, node, $"'{path}': a {scalar} layer needs its parameters, e.g. {Example(scalar)}");
        }
        if (node is not YamlMappingNode map)
            throw YamlNodeReader.Error(file, node, $"'{path}' must be a layer type (relu, flatten, dropout) or a mapping such as {Example(LayerConfig.Conv)}");
        var r = new YamlNodeReader(file, map, path);
        string type = r.String("type") ?? throw YamlNodeReader.Error(file, node, $"'{path}' needs a 'type'; valid types: {string.Join(", ", LayerConfig.Types)}");
        if (!LayerConfig.Types.Contains(type)) throw YamlNodeReader.Error(file, r.NodeOf("type"), TypeError(type));
        string Name() => r.String("name") ?? throw YamlNodeReader.Error(file, node, $"'{path}' ({type}) needs a 'name': the state_dict prefix of its parameters, e.g. features.0 for features.0.weight");
        long Kernel() => r.Has("kernel") ? r.Int("kernel", 1, 1) : throw YamlNodeReader.Error(file, node, $"'{path}' ({type}) needs a 'kernel' (one number: PgIg's kernels and windows are square)");
        long? Out() => r.Has("out") ? r.Int("out", 1, 1) : null;
        var layer = new LayerConfig(index, type, where);
        switch (type)
        {
            case LayerConfig.Conv:
                long k = Kernel();
                layer = layer with { Name = Name(), Out = Out(), Kernel = k, Stride = r.Int("stride", 1, 1), Padding = r.Int("padding", 0, 0), Bias = r.Bool("bias", true) };
                break;
            case LayerConfig.Linear:
                layer = layer with { Name = Name(), Out = Out(), Bias = r.Bool("bias", true) };
                break;
            case LayerConfig.BatchNorm:
                layer = layer with { Name = Name(), Eps = r.Double("eps", 1e-5, double.Epsilon) };
                break;
            case LayerConfig.MaxPool or LayerConfig.AvgPool:
                long pk = Kernel();
                layer = layer with { Kernel = pk, Stride = r.Int("stride", (int)pk, 1) };   // PyTorch: stride defaults to the kernel
                break;
            case LayerConfig.Dropout:
                r.Double("p", 0.5, 0);   // as PyTorch writes it; eval mode ignores it
                break;
            case LayerConfig.AdaptiveAvgPool:
                if (!r.Has("size")) throw YamlNodeReader.Error(file, node, $"'{path}' (adaptive_avg_pool) needs a 'size': its output [height, width], or one number");
                var (h, w) = Pair(r, "size", file);
                layer = layer with { Size = [h, w] };
                break;
        }
        r.RejectUnknown();
        return layer;
    }

    static string Example(string type) => type switch
    {
        LayerConfig.Conv => "{type: conv, name: features.0, kernel: 3, padding: 1}",
        LayerConfig.Linear => "{type: linear, name: classifier.0}",
        LayerConfig.BatchNorm => "{type: batch_norm, name: features.1}",
        LayerConfig.AdaptiveAvgPool => "{type: adaptive_avg_pool, size: 7}",
        _ => $"{{type: {type}, kernel: 2}}",
    };
}
