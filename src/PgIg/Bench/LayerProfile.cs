using System.Diagnostics;
using PgIg.Models;
using PgIg.Rules;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Bench;

/// <summary>
/// Where a PgIg forward+backward pass spends its time, per layer and direction: the same operations as
/// <see cref="SequentialNet.Trace"/> and <see cref="Backprop"/>, timed one by one (CPU ops are synchronous).
/// </summary>
public static class LayerProfile
{
    public sealed record Row(int Layer, string Kind, string Shape, double ForwardMs, double BackwardMs, double Macs);

    /// <summary>Per-layer times; <paramref name="inputs"/> and <paramref name="gradient"/> are the last repeat's chunk and
    /// its input gradient (gradient rule, seed 1, softmax head), so tests can check the profiled loop is the engine's.</summary>
    public static IReadOnlyList<Row> Measure(SequentialNet net, long chunk, int repeats, long seed, out float[] inputs, out float[] gradient)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        using var gen = new Generator((ulong)seed);
        var x = torch.randn(new long[] { chunk }.Concat(net.InputShape).ToArray(), generator: gen);
        var classes = torch.zeros(chunk, dtype: ScalarType.Int64);
        int n = net.Layers.Count;
        var fwd = new double[n];
        var bwd = new double[n];
        var shapes = new string[n];
        var macs = new double[n];
        foreach (var l in FlopCounter.Layers(net)) macs[l.LayerIndex] = l.Macs;
        float[] last = [];
        for (int rep = -1; rep < repeats; rep++) // rep −1 warms up
        {
            using var rs = torch.NewDisposeScope();
            var saved = new object?[n];
            Tensor h = x;
            for (int i = 0; i < n; i++)
            {
                var sw = Stopwatch.StartNew();
                Tensor next;
                switch (net.Layers[i])
                {
                    case ReluLayer:
                        next = ReferenceEquals(h, x) ? F.relu(h) : h.relu_();
                        saved[i] = next.gt(0);
                        break;
                    case MaxPool2dLayer m:
                        var (o, idx) = F.max_pool2d_with_indices(h, new[] { m.KernelSize, m.KernelSize }, new[] { m.Stride, m.Stride });
                        saved[i] = new PoolSwitches(idx, h.shape);
                        next = o;
                        break;
                    case FlattenLayer:
                        saved[i] = h.shape;
                        next = h.flatten(1);
                        break;
                    default:
                        next = SequentialNet.Apply(net.Layers[i], h);
                        break;
                }
                if (rep >= 0) fwd[i] += sw.Elapsed.TotalMilliseconds;
                if (rep < 0) shapes[i] = string.Join("×", next.shape.Skip(1));
                h = next;
            }
            var g = Backprop.OutputSeed(h, classes, SeedMode.One, OutputHead.Softmax);
            int wi = net.WeightedLayers.Count - 1;
            for (int i = n - 1; i >= 0; i--)
            {
                var sw = Stopwatch.StartNew();
                g = net.Layers[i] switch
                {
                    LinearLayer => g.matmul(net.WeightedLayers[wi--].Weight),
                    Conv2dLayer c => F.conv_transpose2d(g, net.WeightedLayers[wi--].Weight, padding: new[] { c.Padding, c.Padding }),
                    ReluLayer => g.mul_((Tensor)saved[i]!),
                    MaxPool2dLayer => Unpool(g, (PoolSwitches)saved[i]!),
                    FlattenLayer => g.reshape((long[])saved[i]!),
                    _ => g,
                };
                if (rep >= 0) bwd[i] += sw.Elapsed.TotalMilliseconds;
            }
            last = g.data<float>().ToArray();
        }
        inputs = x.data<float>().ToArray();
        gradient = last;
        return Enumerable.Range(0, n).Select(i => new Row(i, net.Layers[i].Kind, shapes[i], fwd[i] / repeats / chunk, bwd[i] / repeats / chunk, macs[i])).ToList();
    }

    static Tensor Unpool(Tensor g, PoolSwitches sw)
    {
        var s = sw.InputShape;
        return torch.zeros(s[0], s[1], s[2] * s[3], dtype: g.dtype).scatter_(2, sw.Indices.flatten(2), g.flatten(2)).reshape(s);
    }

    /// <summary>
    /// Profiles every model of the plan: chunks of the size the engine would use for one batch's 24 IG
    /// steps under the plan's memory budget, <c>MaxTrials</c> timed repeats after one warm-up.
    /// </summary>
    public static string Run(BenchPlan plan, string command)
    {
        var sb = new System.Text.StringBuilder();
        var load = MachineInfo.LoadAverage();
        var wall = Stopwatch.StartNew();
        var sections = new List<string>();
        foreach (var model in plan.Models)
        {
            var s = plan.SettingsFor(model);
            using var net = BenchRunner.BuildModel(model, plan.Seed);
            using var rule = new GradientRule(net);
            // the engine's equal-sized chunks of one batch's 24 IG steps (Backprop.InputGradients)
            long examples = s.Batch * 24L, cap = new Backprop(net, rule, SeedMode.One, OutputHead.Softmax, s.MemoryBudgetBytes).CpuChunkSize;
            long count = (examples + cap - 1) / cap, chunk = (examples + count - 1) / count;
            sections.Add($"#### {model}: per example, in chunks of {chunk} (mean of {s.MaxTrials} repeats)\n\n" + Format(Measure(net, chunk, s.MaxTrials, plan.Seed, out _, out _)));
        }
        sb.AppendLine("### Per-layer profile of one PgIg forward+backward pass");
        sb.AppendLine();
        sb.AppendLine($"Machine: {MachineInfo.Current().Describe()}");
        sb.AppendLine();
        sb.AppendLine($"Command: `{command}` ({wall.Elapsed.TotalSeconds:0} s wall; 1-minute load average {load:0.00} at the start, {MachineInfo.LoadAverage():0.00} at the end)");
        sb.AppendLine();
        foreach (var section in sections) sb.AppendLine(section);
        return sb.ToString();
    }

    public static string Format(IReadOnlyList<Row> rows)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| layer | kind | output | forward ms | backward ms | fwd GFLOP/s | bwd GFLOP/s |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            string rate(double ms) => r.Macs > 0 && ms > 0 ? (2 * r.Macs / ms / 1e6).ToString("0.#") : "";
            sb.AppendLine($"| {r.Layer} | {r.Kind} | {r.Shape} | {Ms(r.ForwardMs)} | {Ms(r.BackwardMs)} | {rate(r.ForwardMs)} | {rate(r.BackwardMs)} |");
        }
        sb.AppendLine();
        sb.AppendLine("| kind | forward ms | backward ms | share of the pass |");
        sb.AppendLine("|---|---|---|---|");
        double total = rows.Sum(r => r.ForwardMs + r.BackwardMs);
        foreach (var kind in rows.Select(r => r.Kind).Distinct())
        {
            var k = rows.Where(r => r.Kind == kind).ToList();
            sb.AppendLine($"| {kind} | {Ms(k.Sum(r => r.ForwardMs))} | {Ms(k.Sum(r => r.BackwardMs))} | {100 * k.Sum(r => r.ForwardMs + r.BackwardMs) / total:0.0} % |");
        }
        sb.AppendLine($"| **all** | {Ms(rows.Sum(r => r.ForwardMs))} | {Ms(rows.Sum(r => r.BackwardMs))} | 100 % |");
        return sb.ToString();
    }

    /// <summary>Three significant digits, so the Fashion CNN's microsecond layers still show.</summary>
    static string Ms(double ms) => ms.ToString(ms >= 10 ? "0.0" : ms >= 1 ? "0.00" : "0.000", System.Globalization.CultureInfo.InvariantCulture);
}
