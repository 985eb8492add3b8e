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
            result = RandomOrder(b, q.shape[1], imageIds, seed, maps.device);
        else
        {
            result = q.sort(1, descending: order == DegradationOrder.Morf, stable: true).Item2;
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Patches per image: a G_h×G_w grid of P×P patches (a remainder that P does not tile is not a patch).</summary>
    public static long PatchCount(Tensor x, int patchSize) => (x.shape[2] / patchSize) * (x.shape[3] / patchSize);

    /// <summary>The random order: a permutation per image from a generator seeded by (seed, image id), so it does not
    /// depend on the method, the batch or the shard.</summary>
    public static Tensor RandomOrder(long images, long patches, long[] imageIds, long seed, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var perms = new List<Tensor>();
        for (int i = 0; i < images; i++)
        {
            using var gen = Seeds.Generator(seed, "random-order", imageIds[i]);
            perms.Add(torch.randperm(patches, generator: gen));
        }
        return torch.stack(perms, 0).to(device).MoveToOuterDisposeScope();
    }
}
