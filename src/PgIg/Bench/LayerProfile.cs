using System.Diagnostics;
using System.Globalization;
using System.Text;
using PgIg.Models;
using PgIg.Rules;
using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Bench;

/// <summary>
/// Where a PgIg forward+backward pass spends its time, per layer and direction (<c>pgig bench --profile</c>).
/// It times the engine's own <see cref="Backprop"/> through an <see cref="ILayerTimer"/>; CPU ops are
/// synchronous, so the time between two layer callbacks is that layer's.
/// </summary>
public static class LayerProfile
{
    public sealed record Row(int Layer, string Kind, string Shape, double ForwardMs, double BackwardMs, double Macs);

    /// <summary>
    /// Per-layer times per example of <paramref name="examples"/> random inputs run through <see cref="Backprop"/>
    /// (gradient rule, seed 1, softmax head; it chunks them under <paramref name="memoryBudgetBytes"/>), after
    /// one warm-up run, averaged over <paramref name="repeats"/> timed runs. <paramref name="inputs"/> and
    /// <paramref name="gradient"/> are the inputs and their input gradient, for tests.
    /// </summary>
    public static IReadOnlyList<Row> Measure(SequentialNet net, long examples, long memoryBudgetBytes, int repeats, long seed,
        out float[] inputs, out float[] gradient)
    {
        var device = net.WeightedLayers[0].Weight.device;
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), "at least one timed repeat");
        using var scope = torch.NewDisposeScope();
        using var gen = new Generator((ulong)seed);
        var x = torch.randn(new long[] { examples }.Concat(net.InputShape).ToArray(), generator: gen).to(device);
        var classes = torch.zeros(examples, dtype: ScalarType.Int64, device: device);
        using var rule = new GradientRule(net);
        var backprop = new Backprop(net, rule, SeedMode.One, OutputHead.Softmax, memoryBudgetBytes);
        var g = backprop.InputGradients(x, classes); // warm-up: oneDNN primitives, allocator
        var timer = new LapTimer(net.Layers.Count, device);
        backprop.Timer = timer;
        for (int rep = 0; rep < repeats; rep++)
        {
            using var rs = torch.NewDisposeScope();
            Devices.Synchronize(device);
            timer.Restart();
            backprop.InputGradients(x, classes);
        }
        inputs = x.cpu().data<float>().ToArray();
        gradient = g.cpu().data<float>().ToArray();

        var shapes = new string[net.Layers.Count];
        var macs = new double[net.Layers.Count];
        foreach (var l in FlopCounter.Layers(net)) macs[l.LayerIndex] = l.Macs;
        using (torch.no_grad())
        {
            Tensor h = x[TensorIndex.Slice(0, 1)];
            for (int i = 0; i < net.Layers.Count; i++)
            {
                h = SequentialNet.Apply(net.Layers[i], h);
                shapes[i] = string.Join("×", h.shape.Skip(1));
            }
        }
        double per = (double)repeats * examples;
        return Enumerable.Range(0, net.Layers.Count)
            .Select(i => new Row(i, net.Layers[i].Kind, shapes[i], timer.ForwardMs[i] / per, timer.BackwardMs[i] / per, macs[i])).ToList();
    }

    /// <summary>Books the time since the previous callback to the layer just finished (on a GPU after
    /// waiting for it, which serialises the pass: per-layer times then add up to more than a normal pass).</summary>
    sealed class LapTimer(int layers, Device device) : ILayerTimer
    {
        readonly Stopwatch _watch = new();
        public double[] ForwardMs { get; } = new double[layers];
        public double[] BackwardMs { get; } = new double[layers];
        public void Restart() => _watch.Restart();
        public void Forward(int layer) => ForwardMs[layer] += Lap();
        // the last layer's backward lap also holds the softmax seed (microseconds)
        public void Backward(int layer) => BackwardMs[layer] += Lap();
        double Lap()
        {
            Devices.Synchronize(device);
            double ms = _watch.Elapsed.TotalMilliseconds;
            _watch.Restart();
            return ms;
        }
    }

    /// <summary>
    /// Profiles every model of the plan on one batch's 24 IG steps (batch × 24 examples), chunked by the
    /// engine under the plan's memory budget as integrate_grad would be; <c>MaxTrials</c> timed repeats.
    /// </summary>
    public static string Run(BenchPlan plan, string command)
    {
        var load = MachineInfo.LoadAverage();
        var wall = Stopwatch.StartNew();
        var sections = new List<string>();
        foreach (var model in plan.Models)
        {
            var s = plan.SettingsFor(model);
            var device = Devices.Resolve(plan.Device, "--device");
            using var net = BenchRunner.BuildModel(model, plan.Seed, device);
            using var rule = new GradientRule(net);
            long examples = s.Batch * 24L;
            var sizing = new Backprop(net, rule, SeedMode.One, OutputHead.Softmax, s.MemoryBudgetBytes);
            long cap = device.type == DeviceType.CPU ? sizing.CpuChunkSize : sizing.ChunkSize;
            long count = (examples + cap - 1) / cap;
            sections.Add($"#### {model}: per example; {examples} examples in {count} chunk(s) of about {(examples + count - 1) / count}, mean of {s.MaxTrials} repeat(s)"
                + "\n\n" + Format(Measure(net, examples, s.MemoryBudgetBytes, s.MaxTrials, plan.Seed, out _, out _)));
        }
        var sb = new StringBuilder();
        sb.AppendLine("### Per-layer profile of one PgIg forward+backward pass");
        sb.AppendLine();
        sb.AppendLine($"Machine: {MachineInfo.Current().Describe()}; ran on {Devices.Resolve(plan.Device, "--device")}");
        sb.AppendLine();
        sb.AppendLine($"Command: `{command}` ({wall.Elapsed.TotalSeconds:0} s wall; 1-minute load average {load:0.00} at the start, {MachineInfo.LoadAverage():0.00} at the end)");
        sb.AppendLine();
        foreach (var section in sections) sb.AppendLine(section);
        return sb.ToString();
    }

    public static string Format(IReadOnlyList<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| layer | kind | output | forward ms | backward ms | fwd GFLOP/s | bwd GFLOP/s |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            string Rate(double ms) => r.Macs > 0 && ms > 0 ? (2 * r.Macs / ms / 1e6).ToString("0.#", CultureInfo.InvariantCulture) : "";
            sb.AppendLine($"| {r.Layer} | {r.Kind} | {r.Shape} | {Ms(r.ForwardMs)} | {Ms(r.BackwardMs)} | {Rate(r.ForwardMs)} | {Rate(r.BackwardMs)} |");
        }
        sb.AppendLine();
        sb.AppendLine("| kind | forward ms | backward ms | share of the pass |");
        sb.AppendLine("|---|---|---|---|");
        double total = rows.Sum(r => r.ForwardMs + r.BackwardMs);
        foreach (var kind in rows.Select(r => r.Kind).Distinct())
        {
            var k = rows.Where(r => r.Kind == kind).ToList();
            sb.AppendLine($"| {kind} | {Ms(k.Sum(r => r.ForwardMs))} | {Ms(k.Sum(r => r.BackwardMs))} | {(100 * k.Sum(r => r.ForwardMs + r.BackwardMs) / total).ToString("0.0", CultureInfo.InvariantCulture)} % |");
        }
        sb.AppendLine($"| **all** | {Ms(rows.Sum(r => r.ForwardMs))} | {Ms(rows.Sum(r => r.BackwardMs))} | 100 % |");
        return sb.ToString();
    }

    /// <summary>Three significant digits, so the Fashion CNN's microsecond layers still show.</summary>
    static string Ms(double ms) => ms.ToString(ms >= 10 ? "0.0" : ms >= 1 ? "0.00" : "0.000", CultureInfo.InvariantCulture);
}
