using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace PgIg.Bench;

/// <summary>What <c>pgig bench</c> runs. Null sizes take the per-model defaults of <see cref="SettingsFor"/>.</summary>
public sealed record BenchPlan(
    IReadOnlyList<string> Models, IReadOnlyList<string> Methods, int? Images, int? Batch, long MemoryBudgetBytes, int Threads,
    int? MaxTrials, double? TimeBudgetSeconds, bool Quick, long Seed, bool CompareOriginal, bool InProcess, string Device = "cpu")
{
    public static readonly IReadOnlyList<string> AllModels = ["fashion-cnn", "vgg16"];

    /// <summary>
    /// Defaults: the Fashion-MNIST config's batch of 50; VGG16 2 images in one batch (one IG image is 24
    /// VGG16 passes, about 10–40 s on a 2-core CPU). --quick: 8 and 1.
    /// </summary>
    public BenchSettings SettingsFor(string model)
    {
        int defaultImages = (model, Quick) switch
        {
            ("vgg16", false) => 2, ("vgg16", true) => 1, (_, false) => 50, (_, true) => 8,
        };
        int images = Images ?? Batch ?? defaultImages;
        int batch = Math.Min(images, Batch ?? images);
        return new BenchSettings(images, batch, MemoryBudgetBytes, MaxTrials ?? (Quick ? 2 : 3), TimeBudgetSeconds ?? (Quick ? 5 : 60), Quick, Seed, Device);
    }
}

/// <param name="LoadBefore">1-minute load average when the run started; <paramref name="LoadAfter"/> when it ended.</param>
/// <param name="Device">Where the units ran, e.g. cpu or cuda:0.</param>
public sealed record BenchReport(IReadOnlyList<BenchResult> Rows, IReadOnlyList<IgComparison> Comparisons, double? LoadBefore, double? LoadAfter, double WallSeconds, string Device = "cpu");

/// <summary>
/// Runs a <see cref="BenchPlan"/>. By default every unit runs in a child process of its own
/// (<c>pgig bench --child ...</c>), so that its VmHWM is that unit's peak and not an earlier unit's
/// (allocators keep freed memory); --in-process runs all units here, resetting VmHWM before each.
/// </summary>
public static class BenchSuite
{
    public const string ResultPrefix = "PGIG-BENCH-JSON ";

    public static BenchReport Run(BenchPlan plan, TextWriter log)
    {
        var rows = new List<BenchResult>();
        var comparisons = new List<IgComparison>();
        var load = MachineInfo.LoadAverage();
        var wall = Stopwatch.StartNew();
        foreach (var model in plan.Models)
        {
            var s = plan.SettingsFor(model);
            foreach (var method in plan.Methods)
            {
                log.Write($"{model} {method} ({s.Images} images, batch {s.Batch}) ... ");
                var r = plan.InProcess
                    ? BenchRunner.MeasureMethod(model, method, s, isolated: false)
                    : Child<BenchResult>(plan, model, "method", method);
                rows.Add(r);
                log.WriteLine(r.PassesPerImage > 0
                    ? $"{r.SecondsPerImage:G3} s/image, {r.PassesPerSecond:G4} passes/s"
                    : $"{r.SecondsPerImage:G3} s/image (no passes)");
            }
            if (!plan.CompareOriginal) continue;

            log.Write($"{model} integrate_grad, original-style autograd ... ");
            var o = plan.InProcess ? BenchRunner.MeasureOriginalIg(model, s, isolated: false) : Child<BenchResult>(plan, model, "autograd", "integrate_grad");
            rows.Add(o);
            log.WriteLine($"{o.SecondsPerImage:G3} s/image");

            log.Write($"{model} integrate_grad, PgIg vs original-style in alternation ... ");
            var c = plan.InProcess ? BenchRunner.CompareIntegratedGradients(model, s) : Child<IgComparison>(plan, model, "compare", "integrate_grad");
            comparisons.Add(c);
            log.WriteLine($"ratio {c.Ratio:0.###} (max |Δ| {c.MaxAbsDifference:0.###e+0})");
            UseComparisonTimes(rows, c, plan.Quick, plan.Seed);
        }
        return new BenchReport(rows, comparisons, load, MachineInfo.LoadAverage(), wall.Elapsed.TotalSeconds, Util.Devices.Resolve(plan.Device, "--device").ToString());
    }

    /// <summary>
    /// Gives the table's IG rows that the comparison also timed (PgIg's integrate_grad with the comparison's
    /// steps and sizes, and the autograd reference) the comparison's times. Timed separately, in other
    /// processes and at other moments, the same computation gave other numbers than the ratio line quotes
    /// (short --quick trials on a loaded machine differed up to 30×); the alternating measurement, where both
    /// engines see the same load, is the one to show, once. Peak memory stays each row's own.
    /// </summary>
    public static void UseComparisonTimes(List<BenchResult> rows, IgComparison c, bool quick, long seed)
    {
        string igParams = BenchMethods.Describe(BenchMethods.Parse("integrate_grad", quick, seed));
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            if (r.Model != c.Model || r.Images != c.Images || r.Batch != c.Batch || r.Params != igParams) continue;
            var m = BenchMethods.Parse(r.Method, quick, seed);
            if (m.Kind != "integrate_grad" || m.Rule != "gradient") continue;
            rows[i] = r.Engine switch
            {
                "pgig" => r with { Trials = c.Trials, BestSeconds = c.OursBestSeconds, MedianSeconds = c.OursMedianSeconds, TimedInComparison = true },
                "autograd" => r with { Trials = c.Trials, BestSeconds = c.OriginalBestSeconds, MedianSeconds = c.OriginalMedianSeconds, TimedInComparison = true },
                _ => r,
            };
        }
    }

    /// <summary>Runs one unit in this process and prints its JSON line (the child side of <see cref="Child{T}"/>).</summary>
    public static void RunChild(string kind, BenchPlan plan, TextWriter stdout)
    {
        string model = plan.Models.Single();
        var s = plan.SettingsFor(model);
        object result = kind switch
        {
            "method" => BenchRunner.MeasureMethod(model, plan.Methods.Single(), s, isolated: true),
            "autograd" => BenchRunner.MeasureOriginalIg(model, s, isolated: true),
            "compare" => BenchRunner.CompareIntegratedGradients(model, s),
            _ => throw new ArgumentException($"unknown bench child kind '{kind}'"),
        };
        stdout.WriteLine(ResultPrefix + JsonSerializer.Serialize(result, result.GetType()));
    }

    static T Child<T>(BenchPlan plan, string model, string kind, string method)
    {
        var s = plan.SettingsFor(model);
        var (exe, prefix) = SelfCommand();
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in prefix) psi.ArgumentList.Add(a);
        string I(double v) => v.ToString(CultureInfo.InvariantCulture);
        foreach (var a in new[]
        {
            "bench", "--child", kind, "--model", model, "--methods", method, "--images", I(s.Images), "--batch", I(s.Batch),
            "--memory-budget-mb", I(s.MemoryBudgetBytes / (1024 * 1024)), "--threads", I(plan.Threads), "--trials", I(s.MaxTrials),
            "--time-budget", I(s.TimeBudgetSeconds), "--seed", I(plan.Seed), "--device", plan.Device,
        }) psi.ArgumentList.Add(a);
        if (plan.Quick) psi.ArgumentList.Add("--quick");

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        string? json = null;
        while (p.StandardOutput.ReadLine() is { } line)
        {
            if (line.StartsWith(ResultPrefix, StringComparison.Ordinal)) json = line[ResultPrefix.Length..];
            else Console.Error.WriteLine(line);
        }
        p.WaitForExit();
        if (p.ExitCode != 0 || json is null)
            throw new InvalidOperationException($"bench child for {model} {method} ({kind}) failed with exit code {p.ExitCode}");
        return JsonSerializer.Deserialize<T>(json) ?? throw new InvalidDataException("bench child wrote an empty result");
    }

    /// <summary>How to start this program again: the apphost itself, or `dotnet pgig.dll`.</summary>
    static (string Exe, string[] Prefix) SelfCommand()
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("cannot locate the running executable for child processes; use --in-process");
        if (Path.GetFileNameWithoutExtension(exe) != "dotnet") return (exe, []);
        var entry = Assembly.GetEntryAssembly()?.Location;
        if (string.IsNullOrEmpty(entry) || Path.GetFileNameWithoutExtension(entry) != "pgig")
            throw new InvalidOperationException("child processes need the pgig program as entry point; use --in-process");
        return (exe, [entry]);
    }
}
