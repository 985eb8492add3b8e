using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>The random baseline (spec §5.11): U[0,1) noise of the input's shape, seeded per image.</summary>
public sealed class RandomAttribution : AttributionMethod
{
    public static readonly MethodKind Declaration = new("random", [], "uniform random map (baseline)", _ => new RandomAttribution(), NeedsBackward: false);

    public override string Kind => "random";
    public override long PassesPerImage => 0;

    public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch)
    {
        var maps = new List<Tensor>();
        for (int i = 0; i < x.shape[0]; i++)
        {
            using var gen = Seeds.Generator(batch.Seed, "random", batch.ImageIds[i]);
            maps.Add(torch.rand(x.shape.Skip(1).ToArray(), generator: gen, dtype: x.dtype).to(x.device));
        }
        return torch.stack(maps, 0);
    }
}
