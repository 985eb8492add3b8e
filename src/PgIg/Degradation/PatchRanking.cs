using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Degradation;

public enum DegradationOrder { Morf, Lerf, Random }

/// <summary>Ranks the patches of each image from its attribution map (spec §6, §7.3 step 2).</summary>
public static class PatchRanking
{
    /// <summary>
    /// Channel-sum the map (signed, or absolute when <paramref name="signed"/> is false: quirk B22),
    /// average over P×P patches, and sort. Ties keep patch-index order (stable sort; B21).
    /// Returns B×(G·G) patch indices, k = row·G + col.
    /// </summary>
    public static Tensor Order(Tensor maps, int patchSize, DegradationOrder order, bool signed, long[] imageIds, long seed)
    {
        using var scope = torch.NewDisposeScope();
        long b = maps.shape[0];
        var r = maps.sum(1, keepdim: true);
        if (!signed) r = r.abs();
        var q = F.avg_pool2d(r, patchSize, patchSize).flatten(1); // B×G²
        Tensor result;
        if (order == DegradationOrder.Random)
        {
            var perms = new List<Tensor>();
            for (int i = 0; i < b; i++)
            {
                using var gen = Seeds.Generator(seed, "random-order", imageIds[i]);
                perms.Add(torch.randperm(q.shape[1], generator: gen));
            }
            result = torch.stack(perms, 0).to(maps.device);
        }
        else
        {
            result = q.sort(1, descending: order == DegradationOrder.Morf, stable: true).Item2;
        }
        return result.MoveToOuterDisposeScope();
    }
}
