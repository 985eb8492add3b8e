using PgIg.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Patterns;

/// <summary>
/// One pattern tensor A per conv/dense layer, in the layer's PyTorch weight layout
/// (dense patterns from the original npz are stored (in, out) and transposed on load).
/// </summary>
public sealed class PatternSet(IReadOnlyList<Tensor> a) : IDisposable
{
    public IReadOnlyList<Tensor> A { get; } = a;

    public PatternSet CheckMatches(SequentialNet net)
    {
        for (int i = 0; i < A.Count; i++) CheckLayer(net, i, A[i]);
        CheckCount(net, A.Count);
        return this;
    }

    /// <summary>Pattern <paramref name="i"/> has its layer's weight shape (and the model has that layer).</summary>
    public static void CheckLayer(SequentialNet net, int i, Tensor a)
    {
        if (i >= net.WeightedLayers.Count)
            throw new InvalidDataException($"pattern set has more than {net.WeightedLayers.Count} layers, the model has {net.WeightedLayers.Count} conv/dense layers");
        var ws = net.WeightedLayers[i].Weight.shape;
        if (!a.shape.SequenceEqual(ws))
            throw new InvalidDataException($"pattern A_{i} has shape ({string.Join(", ", a.shape)}), the model's layer {i} weight is ({string.Join(", ", ws)})");
    }

    public static void CheckCount(SequentialNet net, int count)
    {
        if (count != net.WeightedLayers.Count)
            throw new InvalidDataException($"pattern set has {count} layers, the model has {net.WeightedLayers.Count} conv/dense layers");
    }

    public PatternSet To(Device device) =>
        device.type == DeviceType.CPU ? this : new PatternSet(A.Select(a => a.to(device).DetachFromDisposeScope()).ToList());

    /// <summary>Patterns of all ones: PA then equals the probability-seeded gradient (a test identity).</summary>
    public static PatternSet Ones(SequentialNet net) =>
        new(net.WeightedLayers.Select(l => torch.ones_like(l.Weight).DetachFromDisposeScope()).ToList());

    public void Dispose() { foreach (var t in A) t.Dispose(); }
}
