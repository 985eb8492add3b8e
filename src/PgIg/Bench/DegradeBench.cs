using System.Diagnostics;
using System.Globalization;
using System.Text;
using PgIg.Degradation;
using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Bench;

/// <summary>Full and incremental degradation of the same images timed alternately in one process.</summary>
/// <param name="Steps">Curve points per image (n_patches); step 0 is the clean image.</param>
/// <param name="MaxAbsDifference">max |p_full − p_incremental| over every curve point of every image.</param>
/// <param name="FullBestCpuSeconds">Process CPU time of the full engine's cheapest trial (all threads): on a
/// shared machine it moves less with the load than wall time does, at one thread especially.</param>
public sealed record DegradeComparison(
    string Model, int Images, int Batch, int Steps, int PatchSize, int Trials,
    double FullBestSeconds, double FullMedianSeconds, double IncrementalBestSeconds, double IncrementalMedianSeconds,
    double FullBestCpuSeconds, double IncrementalBestCpuSeconds, double MaxAbsDifference, double FullMapFraction, int WindowThreads, int Threads)
{
    /// <summary>Full time / incremental time from the best trial of each: how many times faster incremental is.</summary>
    public double SpeedUp => FullBestSeconds / IncrementalBestSeconds;
    public double MedianSpeedUp => FullMedianSeconds / IncrementalMedianSeconds;
    public double CpuSpeedUp => FullBestCpuSeconds / IncrementalBestCpuSeconds;
}

/// <summary>
/// <c>pgig bench --degrade</c>: <see cref="Degrader"/> against <see cref="IncrementalDegrader"/> on seeded random
/// weights and images, random patch orders, corrected protocol (every step replaces a whole patch in every
/// channel, the incremental engine's least favourable case; B2 would skip some patches entirely).
/// </summary>
public static class DegradeBench
{
    /// <summary>The incremental engine's target speed-up over the full engine on VGG16.</summary>
    public const double TargetSpeedUp = 4;

    /// <summary>VGG16: the paper's 9×9 patches and 100 steps (10 with --quick); Fashion CNN: 4×4 patches, 49 steps.</summary>
    public static (int PatchSize, int Steps) Defaults(string model, bool quick) =>
        model == "vgg16" ? (9, quick ? 10 : 100) : (4, 49);

    /// <summary>Every model of the plan at its settings; returns the markdown section and logs progress.</summary>
    /// <param name="road">Both engines replace by ROAD's noisy linear imputation (noise 0.01 of a 0–255 range per channel) instead of the patch mean.</param>
    public static string Run(BenchPlan plan, int? steps, IncrementalTuning tuning, string command, TextWriter log, bool road = false)
    {
        var load = MachineInfo.LoadAverage();
        var wall = Stopwatch.StartNew();
        var rows = new List<DegradeComparison>();
        foreach (var model in plan.Models)
        {
            var s = plan.SettingsFor(model);
            log.Write($"{model} degradation, full vs incremental in alternation ({s.Images} images, batch {s.Batch}) ... ");
            var row = Measure(model, s, steps, tuning, road);
            log.WriteLine($"{row.FullBestSeconds / row.Images:G3} vs {row.IncrementalBestSeconds / row.Images:G3} s/image: " +
                $"speed-up {row.SpeedUp:0.00}, median {row.MedianSpeedUp:0.00}, CPU {row.CpuSpeedUp:0.00} (max |Δp| {row.MaxAbsDifference:0.##e+0})");
            rows.Add(row);
        }
        return Format(rows, MachineInfo.Current(), command, DateTimeOffset.Now, wall.Elapsed.TotalSeconds, load, MachineInfo.LoadAverage());
    }

    public static DegradeComparison Measure(string model, BenchSettings s, int? steps, IncrementalTuning tuning, bool road = false)
    {
        using var scope = torch.NewDisposeScope();
        var (patch, defaultSteps) = Defaults(model, s.Quick);
        var o = new DegradeOptions(patch, steps ?? defaultSteps, SkipTopPatch: false, PositiveOnlyReplacement: false);
        var shape = Models.Architectures.ByName(model).InputShape;
        long patches = shape[1] / patch * (shape[2] / patch);
        if (o.NPatches > patches + 1)   // fail before building anything
            throw new ArgumentException($"--steps {o.NPatches}: a {shape[1]}×{shape[2]} image has {patches} patches of {patch}×{patch}, so at most {patches + 1} steps");
        var device = Devices.Resolve(s.Device, "--device");
        using var net = BenchRunner.BuildModel(model, s.Seed, device);
        using var gen = Seeds.Generator(s.Seed, "bench-images", model);
        var images = torch.randn(new long[] { s.Images }.Concat(net.InputShape).ToArray(), generator: gen).to(device);
        var ids = Enumerable.Range(0, s.Images).Select(i => (long)i).ToArray();
        var order = PatchRanking.Order(images, patch, DegradationOrder.Random, signed: true, ids, s.Seed);
        var batches = new List<(Tensor X, Tensor Classes, Tensor Order)>();
        for (long i = 0; i < s.Images; i += s.Batch)
        {
            var slice = TensorIndex.Slice(i, Math.Min(s.Images, i + s.Batch));
            batches.Add((images[slice], net.Probabilities(images[slice]).argmax(-1), order[slice]));
        }
        // ROAD: one seeded noise field per image, 0.01 of a 255-wide pixel range (VGG16's input units) in every channel
        var noise = road ? Stages.RoadNoise.Fields(images.cpu(), ids, s.Seed, Enumerable.Repeat(2.55, (int)images.shape[1]).ToArray()).to(device) : null;
        var noiseOf = batches.Select((b, k) => noise?[TensorIndex.Slice(k * s.Batch, k * s.Batch + b.X.shape[0])]).ToList();

        Tensor? fullCurves = null, incrementalCurves = null;
        Func<Tensor> Engine(bool incremental, DegradeOptions options) => () =>
        {
            var curves = batches.Select((b, k) => incremental
                ? IncrementalDegrader.Curves(net, b.X, b.Classes, b.Order, options with { RoadNoise = noiseOf[k] }, s.MemoryBudgetBytes, tuning)
                : Degrader.Curves(net, b.X, b.Classes, b.Order, options with { RoadNoise = noiseOf[k] }, s.MemoryBudgetBytes)).ToList();
            Devices.Synchronize(device);
            return torch.cat(curves, 0);
        };
        // warm-up: two steps each (oneDNN primitives, allocator)
        using (torch.NewDisposeScope())
        {
            Engine(false, o with { NPatches = 2 })();
            Engine(true, o with { NPatches = 2 })();
        }

        var fullTimes = new List<double>(); var incrementalTimes = new List<double>();
        var fullCpu = new List<double>(); var incrementalCpu = new List<double>();
        double total = 0;
        while (fullTimes.Count < s.MaxTrials && (fullTimes.Count == 0 || total < s.TimeBudgetSeconds))
        {
            total += Time(Engine(false, o), fullTimes, fullCpu, ref fullCurves);
            total += Time(Engine(true, o), incrementalTimes, incrementalCpu, ref incrementalCurves);
        }
        double diff = (fullCurves! - incrementalCurves!).abs().max().ToDouble();
        return new DegradeComparison(road ? model + " (ROAD)" : model, s.Images, s.Batch, o.NPatches, patch, fullTimes.Count, fullTimes.Min(), Median(fullTimes),
            incrementalTimes.Min(), Median(incrementalTimes), fullCpu.Min(), incrementalCpu.Min(), diff, tuning.FullMapFraction, tuning.WindowThreads, torch.get_num_threads());
    }

    /// <summary>Times one trial (wall and process CPU); keeps the first trial's curves (in the caller's scope) for the comparison.</summary>
    static double Time(Func<Tensor> trial, List<double> times, List<double> cpuTimes, ref Tensor? first)
    {
        using var scope = torch.NewDisposeScope();
        using var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var curves = trial();
        double t = sw.Elapsed.TotalSeconds;
        process.Refresh();
        times.Add(t);
        cpuTimes.Add((process.TotalProcessorTime - cpu0).TotalSeconds);
        if (first is null) first = curves.MoveToOuterDisposeScope();
        return t;
    }

    static double Median(List<double> xs)
    {
        var sorted = xs.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    public static string Format(IReadOnlyList<DegradeComparison> rows, MachineInfo machine, string command, DateTimeOffset when,
        double wallSeconds, double? loadBefore, double? loadAfter)
    {
        var inv = CultureInfo.InvariantCulture;
        string Load(double? v) => v is double d ? d.ToString("0.00", inv) : "n/a";
        string Sig(double v) => v.ToString(v >= 1000 ? "0" : "G4", inv);
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"### pgig bench --degrade, {when.ToUniversalTime():yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        sb.AppendLine(inv, $"Machine: {machine.Describe()}");
        sb.AppendLine();
        sb.AppendLine(inv, $"Command: `{command}` ({wallSeconds:0} s wall; 1-minute load average {Load(loadBefore)} at the start, {Load(loadAfter)} at the end)");
        sb.AppendLine();
        string fractions = string.Join(", ", rows.Select(r => r.FullMapFraction.ToString("0.##", inv)).Distinct());
        string windowThreads = string.Join(", ", rows.Select(r => r.WindowThreads == 0 ? "all" : r.WindowThreads.ToString(inv)).Distinct());
        sb.AppendLine("Corrected protocol (every step replaces a whole patch), random patch order per image; trials alternate full, incremental. " +
            $"Incremental tuning: full-map fraction {fractions}, window threads {windowThreads}. " +
            "Speed-ups are full time / incremental time: wall time of the best and of the median trials, and process CPU time of the cheapest trials.");
        sb.AppendLine();
        sb.AppendLine("| model | images (batch) | patch | steps | trials | full s/image | incremental s/image | speed-up (best) | speed-up (median) | CPU speed-up | max \\|Δp\\| |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            string target = r.Model == "vgg16" ? $" (target ≥ {TargetSpeedUp.ToString("0", inv)}: {(r.SpeedUp >= TargetSpeedUp ? "met" : "NOT met")})" : "";
            sb.AppendLine(inv,
                $"| {r.Model} | {r.Images} ({r.Batch}) | {r.PatchSize} | {r.Steps} | {r.Trials} | {Sig(r.FullBestSeconds / r.Images)} | {Sig(r.IncrementalBestSeconds / r.Images)} | " +
                $"**{r.SpeedUp.ToString("0.00", inv)}×**{target} | {r.MedianSpeedUp.ToString("0.00", inv)}× | {r.CpuSpeedUp.ToString("0.00", inv)}× | " +
                $"{r.MaxAbsDifference.ToString("0.##e+0", inv)} |");
        }
        return sb.ToString();
    }
}
