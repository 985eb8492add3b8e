using PgIg.Formats;
using PgIg.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Patterns;

/// <summary>The original's pattern file layout (nn-patterns store_patterns): A_0…A_n, dense patterns stored (in, out).</summary>
public static class PatternNpz
{
    public static void Export(PatternSet patterns, SequentialNet net, string path)
    {
        using var npz = new NpzWriter(path);
        for (int i = 0; i < patterns.A.Count; i++)
        {
            using var a = net.WeightedLayers[i] is LinearLayer ? patterns.A[i].t().contiguous() : patterns.A[i].contiguous();
            npz.Add($"A_{i}", a.data<float>().ToArray(), a.shape);
        }
    }

    /// <summary>Mean |wⱼᵀaⱼ − 1| over units that have a pattern (0 means perfectly normalised).</summary>
    public static double NormalisationError(PatternSet patterns, SequentialNet net)
    {
        using var scope = torch.NewDisposeScope();
        double total = 0; long count = 0;
        for (int i = 0; i < patterns.A.Count; i++)
        {
            var w = net.WeightedLayers[i].Weight;
            var wta = (w * patterns.A[i]).reshape(w.shape[0], -1).sum(dim: 1).to(ScalarType.Float64);
            var active = wta.ne(0);
            total += (wta - 1).abs().masked_select(active).sum().item<double>();
            count += active.sum().item<long>();
        }
        return count == 0 ? 0 : total / count;
    }
}
