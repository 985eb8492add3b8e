namespace PgIg.Config;

/// <summary>The channel order a custom model takes its three input planes in.</summary>
public enum ChannelOrder { Rgb, Bgr }

/// <summary>
/// How an image becomes a custom model's input: decoded to RGB, resized (Pillow bilinear) to
/// <see cref="Height"/>×<see cref="Width"/>, planes in <see cref="Channels"/> order, then per channel
/// <c>(pixel · Scale − Mean[c]) / Std[c]</c> with pixels 0–255 (Mean and Std in the model's channel order).
/// </summary>
public sealed record InputConfig(int Height, int Width, ChannelOrder Channels, double Scale, IReadOnlyList<double> Mean, IReadOnlyList<double> Std)
{
    public const int ChannelCount = 3;

    public object ToKeyObject() => new
    {
        size = new[] { Height, Width }, channels = Channels.ToString().ToLowerInvariant(), scale = Scale, mean = Mean.ToArray(), std = Std.ToArray(),
    };
}

/// <summary>
/// One entry of <c>model.layers</c>. <see cref="Name"/> is the state_dict prefix of a conv, linear or batch-norm layer
/// (<c>features.0</c> → <c>features.0.weight</c>, <c>features.0.bias</c>); <see cref="Where"/> is its place in the config
/// file (file:line:column), for errors found once the weights are read.
/// </summary>
public sealed record LayerConfig(int Index, string Type, string Where)
{
    public const string Conv = "conv", Linear = "linear", BatchNorm = "batch_norm", Relu = "relu", MaxPool = "max_pool",
        AvgPool = "avg_pool", AdaptiveAvgPool = "adaptive_avg_pool", Flatten = "flatten", Dropout = "dropout";

    public static IReadOnlyList<string> Types { get; } = [Conv, Linear, BatchNorm, Relu, MaxPool, AvgPool, AdaptiveAvgPool, Flatten, Dropout];

    public string? Name { get; init; }
    /// <summary>Output channels or features; null: taken from the weights.</summary>
    public long? Out { get; init; }
    public long Kernel { get; init; }
    public long Stride { get; init; } = 1;
    public long Padding { get; init; }
    public bool Bias { get; init; } = true;
    public double Eps { get; init; } = 1e-5;
    /// <summary>adaptive_avg_pool's output (height, width).</summary>
    public long[] Size { get; init; } = [];

    /// <summary>"model.layers[3] (conv 'features.3')", for messages.</summary>
    public string Label => Name is null ? $"model.layers[{Index}] ({Type})" : $"model.layers[{Index}] ({Type} '{Name}')";

    /// <summary>What of the layer shapes the network (its place in the file is not part of it).</summary>
    public SortedDictionary<string, object?> ToKeyObject()
    {
        var k = new SortedDictionary<string, object?>(StringComparer.Ordinal) { ["type"] = Type };
        switch (Type)
        {
            case Conv:
                k["name"] = Name; k["out"] = Out; k["kernel"] = Kernel; k["stride"] = Stride; k["padding"] = Padding; k["bias"] = Bias;
                break;
            case Linear:
                k["name"] = Name; k["out"] = Out; k["bias"] = Bias;
                break;
            case BatchNorm:
                k["name"] = Name; k["eps"] = Eps;
                break;
            case MaxPool or AvgPool:
                k["kernel"] = Kernel; k["stride"] = Stride;
                break;
            case AdaptiveAvgPool:
                k["size"] = Size;
                break;
        }
        return k;
    }
}

/// <summary><c>model.architecture: custom</c>: the input, the layer list and where the weights are read from.</summary>
/// <param name="Where">The place of <c>model.layers</c> in the config file (file:line:column).</param>
public sealed record CustomModelConfig(InputConfig Input, IReadOnlyList<LayerConfig> Layers, string Where)
{
    public long[] InputShape => [InputConfig.ChannelCount, Input.Height, Input.Width];

    public object ToKeyObject() => new { input_shape = InputShape, layers = Layers.Select(l => l.ToKeyObject()).ToArray() };
}
