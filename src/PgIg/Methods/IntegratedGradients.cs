using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>
/// Integrated gradients with a zero baseline (the mean colour in preprocessed space), spec §5.4.
/// Faithful (quirk B3): α = np.arange(1/m, 1, 1/m), i.e. k/m for k = 1…m−1, the sum divided by m, so
/// α = 1 is never evaluated. Corrected: the right Riemann sum α = k/m for k = 1…m.
/// Run with the pattern rule this is PGIG (§5.12); over a noise tunnel it is SG-IG (§5.9).
/// Steps are evaluated in batched chunks bounded by the memory budget; gradients are still added
/// in step order so float32 sums match the original's loop.
/// </summary>
public sealed class IntegratedGradients : AttributionMethod
{
    /// <summary>B3 decides whether α = 1 is evaluated.</summary>
    public static IEnumerable<(string Name, bool Value)> KeyQuirks(PgIg.Config.Quirks q) => [("ig_exclude_endpoint", q.IgExcludeEndpoint)];

    public static readonly MethodKind Declaration = new("integrate_grad", [ParamSpec.Steps], "integrated gradients, zero baseline",
        b => new IntegratedGradients(b.Gradient, b.Method.Int("steps"), !b.Quirks.IgExcludeEndpoint, b.MemoryBudgetBytes))
    { OwnQuirks = KeyQuirks };

    /// <summary>SG-IG: integrated gradients of SmoothGrad gradients, so both families' quirks enter its key.</summary>
    public static readonly MethodKind SmoothGradIg = new("sg_ig", [ParamSpec.Steps, ParamSpec.Spread, ParamSpec.Samples(25)], "integrated gradients of SmoothGrad gradients",
        b => new IntegratedGradients(b.Tunnel(NoiseReduction.Mean), b.Method.Int("steps"), !b.Quirks.IgExcludeEndpoint, b.MemoryBudgetBytes, "sg_ig"))
    { OwnQuirks = q => KeyQuirks(q).Concat(NoiseTunnel.KeyQuirks(q)), BatchCoupled = NoiseTunnel.BatchCoupled };

    readonly IGradientSource _source;
    readonly long _memoryBudgetBytes;
    readonly string _kind;

    public IntegratedGradients(IGradientSource source, int steps, bool includeEndpoint, long memoryBudgetBytes, string kind = "integrate_grad")
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), "integrated gradients needs steps >= 2");
        _source = source; _memoryBudgetBytes = memoryBudgetBytes; _kind = kind;
        Steps = steps;
        Alphas = includeEndpoint
            ? Enumerable.Range(1, steps).Select(k => (double)k / steps).ToArray()
            : NumpyCompat.Arange(1.0 / steps, 1.0, 1.0 / steps);
    }

    public override string Kind => _kind;
    public int Steps { get; }
    public IReadOnlyList<double> Alphas { get; }
    public override long PassesPerImage => Alphas.Count * _source.PassesPerInput;

    public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch)
    {
        var sum = torch.zeros_like(x);
        long chunk = GradientSourceExtensions.GroupsPerChunk(x, _memoryBudgetBytes);
        for (int s = 0; s < Alphas.Count; s += (int)chunk)
        {
            using var scope = torch.NewDisposeScope();
            int e = (int)Math.Min(Alphas.Count, s + chunk);
            // float32 α·x, as PyTorch computes tensor * python float
            var alphas = torch.tensor(Alphas.Skip(s).Take(e - s).Select(a => (float)a).ToArray()).reshape(-1, 1, 1, 1, 1).to(x.device);
            var grads = _source.Compute(alphas * x.unsqueeze(0), classes, Enumerable.Range(s + 1, e - s).Select(k => (long)k).ToArray(), batch);
            for (int k = 0; k < e - s; k++) sum.add_(grads[k]);
        }
        return sum * x / Steps;
    }
}
