using PgIg.Models;
using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Sanity;

/// <summary>
/// Cascading model-parameter randomisation (Adebayo et al., NeurIPS 2018, §3.1): the top k conv/dense layers
/// re-initialised, the rest kept. A re-initialised layer gets the trainer's init (<see cref="Architectures.Initial"/>):
/// W ~ N(0, 2 / fan_in) (He), b = 0, drawn from a generator seeded by (seed, "sanity-init", layer index), so layer j's new
/// weights are the same at every level that randomises it: level k + 1 is level k with one more layer re-initialised.
/// </summary>
public static class CascadingRandomisation
{
    /// <summary>Names the init in stage keys; a change of the init changes it.</summary>
    public const string Init = "he-normal-zero-bias-v1";

    /// <summary>
    /// <paramref name="net"/> with its top <paramref name="k"/> weighted layers re-initialised, on the net's device. The
    /// result shares the kept layers' tensors with <paramref name="net"/>: dispose it with <see cref="Randomised.Dispose"/>,
    /// which frees only the new ones.
    /// </summary>
    public static Randomised Randomise(SequentialNet net, int k, long seed)
    {
        int L = net.WeightedLayers.Count;
        if (k < 0 || k > L) throw new ArgumentOutOfRangeException(nameof(k), $"the cascade randomises 0…{L} layers, not {k}");
        var fresh = new List<Tensor>();
        var layers = new List<Layer>();
        int wi = 0;
        foreach (var layer in net.Layers)
        {
            if (layer is not WeightedLayer wl) { layers.Add(layer); continue; }
            int index = wi++;
            if (index < L - k) { layers.Add(layer); continue; }
            var (w, b) = Draw(wl.Weight, seed, index);
            fresh.Add(w); fresh.Add(b);
            layers.Add(wl switch
            {
                Conv2dLayer c => new Conv2dLayer { Weight = w, Bias = b, Padding = c.Padding, Stride = c.Stride },
                _ => new LinearLayer { Weight = w, Bias = b },
            });
        }
        return new Randomised(new SequentialNet(layers, net.InputShape), fresh);
    }

    /// <summary>He-normal weights of <paramref name="like"/>'s shape, dtype and device, zero bias (drawn on the CPU in float32 as the trainer draws, so any device gets the same numbers).</summary>
    static (Tensor W, Tensor B) Draw(Tensor like, long seed, int layer)
    {
        using var gen = Seeds.Generator(seed, "sanity-init", layer);
        long fanIn = like.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        using var scope = torch.NewDisposeScope();
        var w = (torch.randn(like.shape, generator: gen) * Math.Sqrt(2.0 / fanIn)).to(like.dtype).to(like.device);
        var b = torch.zeros(like.shape[0], dtype: like.dtype, device: like.device);
        return (w.DetachFromDisposeScope(), b.DetachFromDisposeScope());
    }

    /// <summary>A randomised copy of a network and the tensors it owns.</summary>
    public sealed class Randomised(SequentialNet net, IReadOnlyList<Tensor> owned) : IDisposable
    {
        public SequentialNet Net { get; } = net;

        public void Dispose() { foreach (var t in owned) t.Dispose(); }
    }
}
