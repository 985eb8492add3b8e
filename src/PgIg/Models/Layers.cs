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

/// <summary>Square-kernel convolution with symmetric zero padding; stride 1 in VGG and the Fashion-MNIST CNN, any in custom models.</summary>
public sealed class Conv2dLayer : WeightedLayer
{
    public override string Kind => "conv";
    public required long Padding { get; init; }
    public long Stride { get; init; } = 1;
    public long InChannels => Weight.shape[1];
    public long KernelSize => Weight.shape[2];

    /// <summary>This layer's convolution with the given kernel (its own weight, a pattern kernel or a grad-tracking copy).</summary>
    public Tensor Convolve(Tensor h, Tensor weight, Tensor? bias) =>
        torch.nn.functional.conv2d(h, weight, bias, strides: new[] { Stride, Stride }, padding: new[] { Padding, Padding });

    /// <summary>Output height or width for an input of <paramref name="size"/> (floor mode, as PyTorch).</summary>
    public long OutputSize(long size) => (size + 2 * Padding - KernelSize) / Stride + 1;
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

/// <summary>A pooling window: square kernel, stride, no padding, floor mode (PyTorch's defaults).</summary>
public abstract class Pool2dLayer : Layer
{
    public required long KernelSize { get; init; }
    public required long Stride { get; init; }
    public long OutputSize(long size) => (size - KernelSize) / Stride + 1;
}

public sealed class MaxPool2dLayer : Pool2dLayer
{
    public override string Kind => "maxpool";
}

/// <summary>Average pooling; linear, so every backward rule passes through it as the gradient does.</summary>
public sealed class AvgPool2dLayer : Pool2dLayer
{
    public override string Kind => "avgpool";
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
