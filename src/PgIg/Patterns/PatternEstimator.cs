using PgIg.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Patterns;

/// <summary>
/// PatternNet's a₊ estimator (Kindermans et al.; nn-patterns CombinedPatternComputer, spec §3.2),
/// streamed over batches with float64 running sums:
///   a₊ = (E₊[x y] − E₊[x] E[y]) / wᵀ(E₊[x y] − E₊[x] E[y]),
/// where ₊ restricts to samples with pre-activation y &gt; 0 and E[y] is over all samples.
/// For conv layers x runs over every (C·k·k) input patch at every position the kernel visits (its stride),
/// zero padding included. Pooling and flatten layers carry no pattern and are only applied.
/// With <c>fromLayer</c> &gt; 0 the layers below it are only applied: their patterns are known (a layer's statistics depend
/// only on the layers up to it), so the Sanity stage re-estimates just the layers its randomisation changed.
/// </summary>
public sealed class PatternEstimator : IDisposable
{
    readonly SequentialNet _net;
    readonly Tensor[] _sumX, _sumXY, _countPos, _sumY;
    readonly long[] _n;
    readonly int _from;

    public PatternEstimator(SequentialNet net, int fromLayer = 0)
    {
        _net = net;
        int L = net.WeightedLayers.Count;
        _from = fromLayer;
        _sumX = new Tensor[L]; _sumXY = new Tensor[L]; _countPos = new Tensor[L]; _sumY = new Tensor[L]; _n = new long[L];
        for (int i = fromLayer; i < L; i++)
        {
            var w = net.WeightedLayers[i].Weight;
            long o = w.shape[0], d = w.numel() / o;
            _sumX[i] = torch.zeros(d, o, dtype: ScalarType.Float64).DetachFromDisposeScope();
            _sumXY[i] = torch.zeros(d, o, dtype: ScalarType.Float64).DetachFromDisposeScope();
            _countPos[i] = torch.zeros(o, dtype: ScalarType.Float64).DetachFromDisposeScope();
            _sumY[i] = torch.zeros(o, dtype: ScalarType.Float64).DetachFromDisposeScope();
        }
    }

    /// <summary>Adds one batch of (preprocessed) inputs to the running statistics.</summary>
    public void Add(Tensor batch)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        Tensor h = batch;
        int wi = 0;
        foreach (var layer in _net.Layers)
        {
            if (layer is WeightedLayer && wi < _from) { wi++; h = SequentialNet.Apply(layer, h); }
            else if (layer is WeightedLayer wl)
            {
                Tensor x = layer switch
                {
                    Conv2dLayer c => F.unfold(h, c.KernelSize, padding: c.Padding, stride: c.Stride).transpose(1, 2).reshape(-1, c.InChannels * c.KernelSize * c.KernelSize),
                    _ => h,
                };
                var yOut = SequentialNet.Apply(layer, h);
                Tensor y = layer is Conv2dLayer ? yOut.permute(0, 2, 3, 1).reshape(-1, wl.OutFeatures) : yOut;
                Accumulate(wi++, x.to(ScalarType.Float64), y.to(ScalarType.Float64));
                h = yOut;
            }
            else h = SequentialNet.Apply(layer, h);
        }
    }

    // reductions name `dim:` — a bare literal 0 binds to sum(ScalarType) (0 converts to any enum),
    // which sums everything into a byte
    void Accumulate(int i, Tensor x, Tensor y)
    {
        var mask = y.gt(0).to(ScalarType.Float64);
        _sumX[i].add_(x.t().matmul(mask));
        _sumXY[i].add_(x.t().matmul(y * mask));
        _countPos[i].add_(mask.sum(dim: 0)); // dim: named: a bare 0 binds to sum(ScalarType) and sums everything as uint8
        _sumY[i].add_(y.sum(dim: 0));
        _n[i] += y.shape[0];
    }

    /// <summary>The a₊ patterns in each layer's weight layout (float32); below <c>fromLayer</c>, copies of <paramref name="below"/>.</summary>
    public PatternSet Result(IReadOnlyList<Tensor>? below = null)
    {
        var list = new List<Tensor>();
        using var _ = torch.no_grad();
        for (int i = 0; i < _from; i++)
            list.Add((below ?? throw new ArgumentNullException(nameof(below), $"layers below {_from} were not estimated")).ElementAt(i).clone().DetachFromDisposeScope());
        for (int i = _from; i < _sumX.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            var w = _net.WeightedLayers[i].Weight;
            long o = w.shape[0];
            var wMat = w.to(ScalarType.Float64).reshape(o, -1).t();           // D×O, column j = w_j
            var safeCount = _countPos[i].clamp_min(1);
            var ex = _sumX[i] / safeCount;                                   // E₊[x]
            var exy = _sumXY[i] / safeCount;                                 // E₊[x y]
            var ey = _sumY[i] / Math.Max(1, _n[i]);                          // E[y], all samples
            var num = exy - ex * ey;
            var a = Normalise(wMat, num);
            a = Normalise(wMat, a); // nn-patterns' _update_length: divides by wᵀa again (≈ 1)
            a = a * _countPos[i].gt(0).to(ScalarType.Float64);              // units never active get no pattern
            list.Add(a.t().reshape(w.shape).to(w.dtype).MoveToOuterDisposeScope().DetachFromDisposeScope());
        }
        return new PatternSet(list);
    }

    static Tensor Normalise(Tensor wMat, Tensor a)
    {
        var d = (wMat * a).sum(dim: 0);
        d = torch.where(d.eq(0), torch.ones_like(d), d);
        return a / d;
    }

    public void Dispose()
    {
        foreach (var t in _sumX.Concat(_sumXY).Concat(_countPos).Concat(_sumY)) t?.Dispose();
    }
}
