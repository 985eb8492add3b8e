using PgIg.Models;

namespace PgIg.Bench;

/// <summary>Multiply-accumulates of one conv/dense layer for one example, with the shapes that produced them.</summary>
public sealed record LayerMacs(int LayerIndex, string Kind, long[] InShape, long[] OutShape, long Macs);

/// <summary>
/// Analytic FLOP counts from layer shapes (no tensors are run). Counting rule:
/// <list type="bullet">
/// <item>conv: C_out·C_in·k_h·k_w·H_out·W_out MACs; dense: out·in MACs; one MAC = 2 FLOPs.</item>
/// <item>ReLU, max-pool, bias, softmax, masks and scatters are not counted (a few per mille of VGG16).</item>
/// <item>Input-gradient backward of a conv (transposed conv) or dense layer costs the same MACs as its
/// forward, so one PgIg forward+backward pass is 4·MACs FLOPs.</item>
/// <item>Autograd with parameters requiring grad also computes weight gradients (again the same MACs),
/// so one original-style pass is 6·MACs FLOPs.</item>
/// </list>
/// </summary>
public static class FlopCounter
{
    /// <summary>Per-layer MACs of one example of shape <see cref="SequentialNet.InputShape"/>.</summary>
    public static IReadOnlyList<LayerMacs> Layers(SequentialNet net)
    {
        var result = new List<LayerMacs>();
        long[] shape = net.InputShape.ToArray();
        for (int i = 0; i < net.Layers.Count; i++)
        {
            var layer = net.Layers[i];
            long[] outShape;
            switch (layer)
            {
                case Conv2dLayer c:
                {
                    if (shape.Length != 3 || shape[0] != c.InChannels)
                        throw new InvalidDataException($"layer {i} (conv) expects {c.InChannels} input channels, gets shape ({string.Join(", ", shape)})");
                    long kh = c.Weight.shape[2], kw = c.Weight.shape[3];
                    outShape = [c.OutFeatures, c.OutputSize(shape[1]), c.OutputSize(shape[2])];
                    result.Add(new LayerMacs(i, c.Kind, shape, outShape, c.OutFeatures * c.InChannels * kh * kw * outShape[1] * outShape[2]));
                    break;
                }
                case LinearLayer l:
                {
                    long inFeatures = shape.Aggregate(1L, (a, b) => a * b);
                    if (inFeatures != l.InFeatures)
                        throw new InvalidDataException($"layer {i} (dense) expects {l.InFeatures} inputs, gets {inFeatures}");
                    outShape = [l.OutFeatures];
                    result.Add(new LayerMacs(i, l.Kind, shape, outShape, l.OutFeatures * l.InFeatures));
                    break;
                }
                case Pool2dLayer m:
                    outShape = [shape[0], m.OutputSize(shape[1]), m.OutputSize(shape[2])];
                    break;
                case FlattenLayer:
                    outShape = [shape.Aggregate(1L, (a, b) => a * b)];
                    break;
                default:
                    outShape = shape;
                    break;
            }
            shape = outShape;
        }
        return result;
    }

    /// <summary>Forward MACs of one example.</summary>
    public static long ForwardMacs(SequentialNet net) => Layers(net).Sum(l => l.Macs);

    /// <summary>FLOPs of one PgIg pass: forward plus input-gradient backward.</summary>
    public static double PassFlops(long forwardMacs) => 4.0 * forwardMacs;

    /// <summary>FLOPs of one autograd pass that also computes weight gradients.</summary>
    public static double AutogradPassFlops(long forwardMacs) => 6.0 * forwardMacs;
}
