using System.Diagnostics;
using PgIg.Methods;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Rules;
using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Bench;

/// <summary>
/// Times one benchmark unit in this process: a PgIg method, the original-style autograd IG, or the two
/// IG implementations alternately. Networks have seeded random weights of the real architecture; cost
/// does not depend on the weight values (dense kernels, no sparsity tricks), only on the shapes.
/// </summary>
public static class BenchRunner
{
    /// <summary>The architecture with seeded He-initialised weights (drawn on the CPU, so every device gets the
    /// same ones), on <paramref name="device"/> (default: the CPU).</summary>
    public static SequentialNet BuildModel(string model, long seed, Device? device = null)
    {
        var spec = Architectures.ByName(model);
        using var gen = Seeds.Generator(seed, "bench-weights", model);
        var (w, b) = Architectures.Initial(spec, gen);
        var net = Architectures.Build(spec, w, b);
        if (device is null || device.type == DeviceType.CPU) return net;
        var moved = net.To(device);
        net.Dispose();
        return moved;
    }

    public static BenchResult MeasureMethod(string model, string methodText, BenchSettings s, bool isolated)
    {
        using var scope = torch.NewDisposeScope();
        var m = BenchMethods.Parse(methodText, s.Quick, s.Seed);
        using var work = Workload.Create(model, s);
        using var patterns = m.UsesPatterns ? PatternSet.Ones(work.Net) : null;
        using var rule = MethodRegistry.CreateRule(m, work.Net, patterns);
        var reference = m.Kind == "exp_grad" ? ReferenceSet(work, s, model) : null;
        var method = MethodRegistry.Create(m, rule, work.Net, BenchMethods.Quirks, s.MemoryBudgetBytes, reference);

        if (MethodRegistry.Find(m.Kind)!.NeedsBackward)
        {
            // one pass of the same rule builds the oneDNN primitives and touches the allocator once
            var (seed, head) = MethodRegistry.SeedFor(m, BenchMethods.Quirks);
            var warm = new Backprop(work.Net, rule, seed, head, s.MemoryBudgetBytes);
            using var ws = torch.NewDisposeScope();
            warm.InputGradients(work.BatchImages(0), work.BatchClasses(0));
        }

        var memory = MemoryProbe.Start();
        var (trials, best, median) = TimeTrials(s, () =>
        {
            for (int b = 0; b < work.BatchCount; b++)
            {
                using var bs = torch.NewDisposeScope();
                method.Attribute(work.BatchImages(b), work.BatchClasses(b), work.Info(b, m.Seed));
            }
            work.Synchronize();
        });
        var (peak, start) = memory.Stop(isolated);
        return new BenchResult(model, methodText, "pgig", BenchMethods.Describe(m), s.Images, s.Batch, method.PassesPerImage,
            work.ForwardMacs, FlopCounter.PassFlops(work.ForwardMacs), trials, best, median, peak, start, isolated, torch.get_num_threads());
    }

    /// <summary>The original's IG (autograd, weight gradients, one step per pass) with integrate_grad's steps.</summary>
    public static BenchResult MeasureOriginalIg(string model, BenchSettings s, bool isolated)
    {
        using var scope = torch.NewDisposeScope();
        var m = BenchMethods.Parse("integrate_grad", s.Quick, s.Seed);
        int steps = m.Int("steps");
        using var work = Workload.Create(model, s);
        using var original = new AutogradIntegratedGradients(work.Net);
        using (torch.NewDisposeScope()) original.Attribute(work.BatchImages(0), work.BatchClasses(0), steps: 2); // warm-up: one step

        var memory = MemoryProbe.Start();
        var (trials, best, median) = TimeTrials(s, () =>
        {
            for (int b = 0; b < work.BatchCount; b++)
            {
                using var bs = torch.NewDisposeScope();
                original.Attribute(work.BatchImages(b), work.BatchClasses(b), steps);
            }
            work.Synchronize();
        });
        var (peak, start) = memory.Stop(isolated);
        return new BenchResult(model, "integrate_grad", "autograd", BenchMethods.Describe(m), s.Images, s.Batch,
            AutogradIntegratedGradients.PassesPerImage(steps), work.ForwardMacs, FlopCounter.AutogradPassFlops(work.ForwardMacs),
            trials, best, median, peak, start, isolated, torch.get_num_threads());
    }

    /// <summary>
    /// PgIg's faithful integrate_grad and the original-style autograd IG, trial by trial in alternation so that
    /// both see the same machine load; also checks that both give the same maps.
    /// </summary>
    public static IgComparison CompareIntegratedGradients(string model, BenchSettings s)
    {
        using var scope = torch.NewDisposeScope();
        var m = BenchMethods.Parse("integrate_grad", s.Quick, s.Seed);
        int steps = m.Int("steps");
        using var work = Workload.Create(model, s);
        using var rule = MethodRegistry.CreateRule(m, work.Net, null);
        var ours = MethodRegistry.Create(m, rule, work.Net, BenchMethods.Quirks, s.MemoryBudgetBytes);
        using var original = new AutogradIntegratedGradients(work.Net);

        var (seedMode, head) = MethodRegistry.SeedFor(m, BenchMethods.Quirks);
        using (torch.NewDisposeScope())
        {
            new Backprop(work.Net, rule, seedMode, head, s.MemoryBudgetBytes).InputGradients(work.BatchImages(0), work.BatchClasses(0));
            original.Attribute(work.BatchImages(0), work.BatchClasses(0), steps: 2);
        }

        Tensor? oursFirst = null, originalFirst = null;
        Action Trial(Func<Tensor, Tensor, BatchInfo, Tensor> run, Func<Tensor?> get, Action<Tensor> set) => () =>
        {
            for (int b = 0; b < work.BatchCount; b++)
            {
                using var bs = torch.NewDisposeScope();
                var map = run(work.BatchImages(b), work.BatchClasses(b), work.Info(b, m.Seed));
                if (b == 0) { get()?.Dispose(); set(map.DetachFromDisposeScope()); }
            }
            work.Synchronize();
        };
        var oursTrial = Trial((x, c, info) => ours.Attribute(x, c, info), () => oursFirst, t => oursFirst = t);
        var originalTrial = Trial((x, c, _) => original.Attribute(x, c, steps), () => originalFirst, t => originalFirst = t);

        var oursTimes = new List<double>(); var originalTimes = new List<double>();
        double total = 0;
        while (oursTimes.Count < s.MaxTrials && (oursTimes.Count == 0 || total < s.TimeBudgetSeconds))
        {
            total += Time(oursTrial, oursTimes);
            total += Time(originalTrial, originalTimes);
        }
        double diff, scale;
        using (torch.NewDisposeScope())
        {
            diff = (oursFirst! - originalFirst!).abs().max().ToDouble();
            scale = originalFirst!.abs().max().ToDouble();
        }
        oursFirst!.Dispose(); originalFirst!.Dispose();
        return new IgComparison(model, s.Images, s.Batch, steps, AutogradIntegratedGradients.PassesPerImage(steps), oursTimes.Count,
            oursTimes.Min(), Median(oursTimes), originalTimes.Min(), Median(originalTimes), diff, scale, torch.get_num_threads());
    }

    static double Time(Action trial, List<double> times)
    {
        var sw = Stopwatch.StartNew();
        trial();
        double t = sw.Elapsed.TotalSeconds;
        times.Add(t);
        return t;
    }

    static (int Trials, double Best, double Median) TimeTrials(BenchSettings s, Action trial)
    {
        var times = new List<double>();
        double total = 0;
        while (times.Count < s.MaxTrials && (times.Count == 0 || total < s.TimeBudgetSeconds))
            total += Time(trial, times);
        return (times.Count, times.Min(), Median(times));
    }

    static double Median(List<double> xs)
    {
        var sorted = xs.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>exp_grad baselines: seeded random images, as many as one batch (see <see cref="BenchMethods.Quirks"/>).</summary>
    static Tensor ReferenceSet(Workload work, BenchSettings s, string model)
    {
        using var gen = Seeds.Generator(s.Seed, "bench-reference", model);
        using var scope = torch.NewDisposeScope();
        return torch.randn(new long[] { Math.Max(2, s.Batch) }.Concat(work.Net.InputShape).ToArray(), generator: gen)
            .to(work.Device).MoveToOuterDisposeScope();
    }

    /// <summary>The network, seeded random inputs and their predicted classes (argmax on the clean input, spec §4.1).</summary>
    sealed class Workload : IDisposable
    {
        public required SequentialNet Net { get; init; }
        public required Tensor Images { get; init; }
        public required Tensor Classes { get; init; }
        public required int Batch { get; init; }
        public required Device Device { get; init; }
        public long ForwardMacs => FlopCounter.ForwardMacs(Net);
        public int BatchCount => (int)((Images.shape[0] + Batch - 1) / Batch);

        public static Workload Create(string model, BenchSettings s)
        {
            if (s.Images < 1 || s.Batch < 1) throw new ArgumentException("images and batch must be at least 1");
            var device = Devices.Resolve(s.Device, "--device");
            var net = BuildModel(model, s.Seed, device);
            // drawn on the CPU generator, so every device times the same images
            using var gen = Seeds.Generator(s.Seed, "bench-images", model);
            Tensor images;
            using (torch.NewDisposeScope())
                images = torch.randn(new long[] { s.Images }.Concat(net.InputShape).ToArray(), generator: gen).to(device).DetachFromDisposeScope();
            var classes = new List<Tensor>();
            for (long i = 0; i < s.Images; i += s.Batch)
            {
                using var bs = torch.NewDisposeScope();
                classes.Add(net.Probabilities(images[TensorIndex.Slice(i, Math.Min(s.Images, i + s.Batch))]).argmax(-1).MoveToOuterDisposeScope());
            }
            var all = torch.cat(classes, 0).DetachFromDisposeScope();
            foreach (var c in classes) c.Dispose();
            return new Workload { Net = net, Images = images, Classes = all, Batch = Math.Min(s.Batch, s.Images), Device = device };
        }

        /// <summary>Trials end when the device's queued work is done.</summary>
        public void Synchronize() => Devices.Synchronize(Device);

        TensorIndex Slice(int b) => TensorIndex.Slice((long)b * Batch, Math.Min(Images.shape[0], (long)(b + 1) * Batch));
        public Tensor BatchImages(int b) => Images[Slice(b)];
        public Tensor BatchClasses(int b) => Classes[Slice(b)];

        public BatchInfo Info(int b, long seed)
        {
            long start = (long)b * Batch, end = Math.Min(Images.shape[0], start + Batch);
            var ids = Enumerable.Range((int)start, (int)(end - start)).Select(i => (long)i).ToArray();
            return new BatchInfo(ids, seed, $"bench:{b}");
        }

        public void Dispose()
        {
            Net.Dispose(); Images.Dispose(); Classes.Dispose();
        }
    }

    /// <summary>Peak RSS of the timed phase: VmHWM is reset when timing starts.</summary>
    readonly struct MemoryProbe
    {
        readonly bool _reset;
        readonly long? _start;

        MemoryProbe(bool reset, long? start) { _reset = reset; _start = start; }

        public static MemoryProbe Start()
        {
            GC.Collect();
            bool reset = ProcessMemory.TryResetPeak();
            return new MemoryProbe(reset, ProcessMemory.Rss());
        }

        /// <summary>Without a reset, only an isolated child's whole-life peak still means something.</summary>
        public (long? Peak, long? Start) Stop(bool isolated)
        {
            var peak = ProcessMemory.PeakRss();
            if (_reset) return (peak, _start);
            return isolated ? (peak, null) : (null, null);
        }
    }
}
