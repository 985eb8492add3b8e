using System.Diagnostics;
using PgIg.Bench;
using PgIg.Cli;
using Xunit;
using Xunit.Abstractions;

namespace PgIg.Tests.Bench;

public class BenchQuickTests(ITestOutputHelper output)
{
    static BenchPlan QuickPlan(IReadOnlyList<string> methods, bool compare) =>
        new(["fashion-cnn"], methods, Images: null, Batch: null, MemoryBudgetBytes: 256L << 20, Threads: 0,
            MaxTrials: null, TimeBudgetSeconds: null, Quick: true, Seed: 0, CompareOriginal: compare, InProcess: true);

    [Fact]
    public void Quick_run_on_the_fashion_cnn_gives_finite_positive_rates_for_every_method()
    {
        var sw = Stopwatch.StartNew();
        var log = new StringWriter();
        var report = BenchSuite.Run(QuickPlan(BenchMethods.Default, compare: true), log);
        output.WriteLine(log.ToString());
        output.WriteLine($"{sw.Elapsed.TotalSeconds:0.0} s");

        Assert.Equal(BenchMethods.Default.Count + 1, report.Rows.Count);
        foreach (var r in report.Rows)
        {
            Assert.True(r.Trials >= 1);
            Assert.True(double.IsFinite(r.ImagesPerSecond) && r.ImagesPerSecond > 0, $"{r.Method}: images/s {r.ImagesPerSecond}");
            if (r.Method == "random") { Assert.Equal(0, r.PassesPerImage); continue; }
            Assert.True(r.PassesPerImage > 0, r.Method);
            Assert.True(double.IsFinite(r.PassesPerSecond) && r.PassesPerSecond > 0, $"{r.Method}: passes/s {r.PassesPerSecond}");
            Assert.True(double.IsFinite(r.GflopPerSecond) && r.GflopPerSecond > 0, $"{r.Method}: GFLOP/s {r.GflopPerSecond}");
            if (r.PeakRssBytes is long peak) Assert.True(peak > 0 && r.StartRssBytes > 0);
        }
        // --quick: IG steps=4 is α = 1/4, 1/2, 3/4; the noise methods take 2 samples
        Assert.Equal(3, report.Rows.Single(r => r.Method == "integrate_grad" && r.Engine == "pgig").PassesPerImage);
        Assert.Equal(3, report.Rows.Single(r => r.Engine == "autograd").PassesPerImage);
        Assert.Equal(6, report.Rows.Single(r => r.Method == "sg_ig").PassesPerImage);

        var c = Assert.Single(report.Comparisons);
        Assert.True(double.IsFinite(c.Ratio) && c.Ratio > 0);
        Assert.True(c.MaxAbsAttribution > 0);
        // the original-style autograd IG computes the same maps
        Assert.True(c.MaxAbsDifference <= 1e-5 * c.MaxAbsAttribution, $"max |Δ| {c.MaxAbsDifference} vs max |IG| {c.MaxAbsAttribution}");

        var md = BenchMarkdown.Format(report, MachineInfo.Current(), "pgig bench --quick", DateTimeOffset.UnixEpoch);
        Assert.Contains("| fashion-cnn | pattern_integrate_grad | pgig | steps=4 |", md);
        Assert.Contains("**ratio ", md);
    }

    [Fact]
    public void The_table_and_the_ratio_line_quote_the_same_IG_times()
    {
        var report = BenchSuite.Run(QuickPlan(["vanilla_grad", "integrate_grad", "integrate_grad:steps=5"], compare: true), new StringWriter());
        var md = BenchMarkdown.Format(report, MachineInfo.Current(), "pgig bench --quick", DateTimeOffset.UnixEpoch);
        output.WriteLine(md);
        string Cell(string rowStart) => md.Split('\n').Single(l => l.StartsWith(rowStart, StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries)[8];
        string ours = Cell("| fashion-cnn | integrate_grad | pgig |"), original = Cell("| fashion-cnn | integrate_grad | autograd |");
        Assert.EndsWith(" †", ours);
        Assert.EndsWith(" †", original);
        var ratioLine = md.Split('\n').Single(l => l.StartsWith("IG on fashion-cnn", StringComparison.Ordinal));
        Assert.Contains($"PgIg {ours[..^2]} s/image, original-style autograd {original[..^2]} s/image", ratioLine);
        // other configurations keep their own times
        Assert.DoesNotContain("†", Cell("| fashion-cnn | integrate_grad:steps=5 | pgig |"));
        Assert.DoesNotContain("†", Cell("| fashion-cnn | vanilla_grad | pgig |"));
        Assert.Contains("† timed in the alternating IG comparison below", md);
    }

    [Fact]
    public async Task Cli_appends_a_markdown_section_to_out()
    {
        var dir = Directory.CreateTempSubdirectory("pgig-bench-");
        try
        {
            var path = Path.Combine(dir.FullName, "bench.md");
            string[] args = ["bench", "--model", "fashion-cnn", "--quick", "--in-process", "--no-original",
                             "--methods", "vanilla_grad,integrate_grad:steps=5", "--trials", "1", "--out", path];
            Assert.Equal(0, await PgIgCli.RunAsync(args));
            Assert.Equal(0, await PgIgCli.RunAsync(args));
            var text = File.ReadAllText(path);
            Assert.Equal(2, text.Split("### pgig bench").Length - 1);
            Assert.Contains("| fashion-cnn | integrate_grad:steps=5 | pgig | steps=5 | 8 (8) | 1 | 4 |", text);
            Assert.Contains("Command: `pgig bench --model fashion-cnn --quick", text);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public async Task Cli_rejects_unknown_methods_and_parameters_before_timing()
    {
        Assert.Equal(1, await PgIgCli.RunAsync(["bench", "--model", "fashion-cnn", "--quick", "--in-process", "--methods", "integrate_gradz"]));
        Assert.Equal(1, await PgIgCli.RunAsync(["bench", "--model", "fashion-cnn", "--quick", "--in-process", "--methods", "vanilla_grad:steps=3"]));
        Assert.Throws<ArgumentException>(() => BenchMethods.Parse("smooth_grad:n_samples=0", false, 0));
        // parse errors: non-zero exit, one message and a --help pointer rather than the help page
        var err = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try { Assert.Equal(1, await PgIgCli.RunAsync(["bench", "--images", "abc"])); }
        finally { Console.SetError(err); }
        Assert.Contains("--images: 'abc' is not a whole number", captured.ToString());
        Assert.Contains("See 'pgig bench --help' for the options.", captured.ToString());
        Assert.DoesNotContain("Options:", captured.ToString());
        var m = BenchMethods.Parse("pattern_sg_ig:steps=5:stdev_spread=0.2", quick: true, 0);
        Assert.Equal(("sg_ig", "pattern"), (m.Kind, m.Rule));
        Assert.Equal(5, m.Int("steps"));
        Assert.Equal(2, m.Int("n_samples")); // quick default
        Assert.Equal(0.2, m.Double("stdev_spread"));
    }

    [Fact]
    public async Task Default_run_isolates_each_unit_in_a_child_process()
    {
        // `dotnet pgig.dll bench` spawns `dotnet pgig.dll bench --child ...` per unit
        var pgig = Path.Combine(AppContext.BaseDirectory, "pgig.dll");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { pgig, "bench", "--model", "fashion-cnn", "--quick", "--methods", "vanilla_grad", "--no-original", "--trials", "1" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        output.WriteLine(stdout + await stderr);
        Assert.Equal(0, p.ExitCode);
        var row = stdout.Split('\n').Single(l => l.StartsWith("| fashion-cnn | vanilla_grad |", StringComparison.Ordinal));
        var cells = row.Split('|', StringSplitOptions.TrimEntries);
        Assert.True(double.Parse(cells[12], System.Globalization.CultureInfo.InvariantCulture) > 50, row); // a whole process: runtime + libtorch
    }
}
