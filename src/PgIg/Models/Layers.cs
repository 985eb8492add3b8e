using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Models;

/// <summary>A layer of a plain feed-forward network. Weights are immutable tensors that never require grad.</summary>
public abstract class Layer
{
    public abstract string Kind { get; }
}

/// <summary>A layer with a weight matrix/kernel; these are the layers that get patterns.</summary>
public abstract class WeightedLayer : Layer
{
    /// <summary>PyTorch layout: conv (out, in, kh, kw), dense (out, in).</summary>
    public required Tensor Weight { get; init; }
    public required Tensor Bias { get; init; }
    public long OutFeatures => Weight.shape[0];
}

/// <summary>3×3-style convolution, stride 1, symmetric zero padding (VGG and the Fashion-MNIST CNN).</summary>
public sealed class Conv2dLayer : WeightedLayer
{
    public override string Kind => "conv";
    public required long Padding { get; init; }
    public long InChannels => Weight.shape[1];
    public long KernelSize => Weight.shape[2];
}

public sealed class LinearLayer : WeightedLayer
{
    public override string Kind => "dense";
    public long InFeatures => Weight.shape[1];
}

public sealed class ReluLayer : Layer
{
    public override string Kind => "relu";
}

public sealed class MaxPool2dLayer : Layer
{
    public override string Kind => "maxpool";
    public required long KernelSize { get; init; }
    public required long Stride { get; init; }
}

/// <summary>C-order flatten of (C, H, W), as torch.flatten(x, 1).</summary>
public sealed class FlattenLayer : Layer
{
    public override string Kind => "flatten";
}

/// <summary>Dropout in eval mode and VGG's AdaptiveAvgPool2d(7,7) at 7×7: both identities.</summary>
public sealed class IdentityLayer(string what) : Layer
{
    public override string Kind => what;
}
