using PgIg.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Models;

/// <summary>
/// The tiny fixed input of every fingerprint probe (<see cref="PgIg.Pipeline.Fingerprints"/>): float64 values drawn by
/// SplitMix64 in C# (bit-identical on every machine, unlike libm-based draws), and a float64 network with every layer
/// kind the backward rules and degradation engines handle: padded conv, ReLU before a max-pool, strided conv, average
/// pool, flatten, dense, identity.
/// </summary>
public static class ProbeInput
{
    public const int Images = 4, Channels = 3, Size = 16, Classes = 5;

    /// <summary>Values uniform in [−1, 1), seeded by <paramref name="name"/>.</summary>
    public static double[] Uniform(string name, long count)
    {
        var rng = new SplitMix64(SplitMix64.SeedOf(name));
        var v = new double[count];
        for (long i = 0; i < count; i++) v[i] = (rng.NextUInt64() >> 11) * (2.0 / (1UL << 53)) - 1;
        return v;
    }

    public static Tensor Tensor(string name, params long[] shape) =>
        torch.tensor(Uniform(name, shape.Aggregate(1L, (a, b) => a * b)), shape, ScalarType.Float64);

    /// <summary>A batch of <see cref="Images"/> inputs, C×H×W = 3×16×16.</summary>
    public static Tensor Input() => Tensor("input", Images, Channels, Size, Size);

    /// <summary>Fixed target classes, so no probe depends on an argmax it does not own.</summary>
    public static Tensor Targets() => torch.tensor(Enumerable.Range(0, Images).Select(i => (long)(i % Classes)).ToArray());

    /// <summary>3×16×16 → conv 4 → ReLU → max-pool 2 (8×8) → strided conv 6 (4×4) → ReLU → avg-pool 2 (2×2) → flatten 24 →
    /// dense 8 → ReLU → identity → dense 5. The caller owns it.</summary>
    public static SequentialNet Net()
    {
        Tensor W(string name, params long[] shape) => (Tensor(name, shape) * Math.Sqrt(6.0 / shape.Skip(1).Aggregate(1L, (a, b) => a * b))).DetachFromDisposeScope();
        Tensor B(string name, long n) => (Tensor(name, n) * 0.1).DetachFromDisposeScope();
        return new SequentialNet(
        [
            new Conv2dLayer { Weight = W("w0", 4, 3, 3, 3), Bias = B("b0", 4), Padding = 1 },
            new ReluLayer(),
            new MaxPool2dLayer { KernelSize = 2, Stride = 2 },
            new Conv2dLayer { Weight = W("w1", 6, 4, 3, 3), Bias = B("b1", 6), Padding = 1, Stride = 2 },
            new ReluLayer(),
            new AvgPool2dLayer { KernelSize = 2, Stride = 2 },
            new FlattenLayer(),
            new LinearLayer { Weight = W("w2", 8, 24), Bias = B("b2", 8) },
            new ReluLayer(),
            new IdentityLayer("dropout"),
            new LinearLayer { Weight = W("w3", Classes, 8), Bias = B("b3", Classes) },
        ], [Channels, Size, Size]);
    }
}
