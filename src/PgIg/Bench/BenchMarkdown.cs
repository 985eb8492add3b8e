using System.Globalization;
using System.Text;

namespace PgIg.Bench;

/// <summary>Formats a <see cref="BenchReport"/> as a markdown section.</summary>
public static class BenchMarkdown
{
    /// <summary>The ratio target of PgIg's IG over original-style autograd IG on VGG16.</summary>
    public const double TargetRatio = 0.35;

    public static string Format(BenchReport report, MachineInfo machine, string command, DateTimeOffset when)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"### pgig bench, {when.ToUniversalTime():yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        sb.AppendLine(inv, $"Machine: {machine.Describe()}; units ran on {report.Device}");
        sb.AppendLine();
        sb.AppendLine(inv, $"Command: `{command}` ({report.WallSeconds:0} s wall; 1-minute load average {Load(report.LoadBefore)} at the start, {Load(report.LoadAfter)} at the end)");
        sb.AppendLine();
        sb.AppendLine("| model | method | engine | params | images (batch) | trials | passes/image | s/image | images/s | passes/s | GFLOP/s | peak RSS MiB | Δ RSS MiB |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in report.Rows)
        {
            bool passes = r.PassesPerImage > 0;
            sb.AppendLine(inv,
                $"| {r.Model} | {r.Method} | {r.Engine} | {r.Params} | {r.Images} ({r.Batch}) | {r.Trials} | {r.PassesPerImage} | {Sig(r.SecondsPerImage)}{(r.TimedInComparison ? " †" : "")} | " +
                $"{Sig(r.ImagesPerSecond)} | {(passes ? Sig(r.PassesPerSecond) : "–")} | {(passes ? r.GflopPerSecond.ToString("0.0", inv) : "–")} | " +
                $"{Mib(r.PeakRssBytes)} | {Mib(r.PeakDeltaBytes)} |");
        }
        if (report.Rows.Any(r => r.TimedInComparison))
        {
            sb.AppendLine();
            sb.AppendLine("† timed in the alternating IG comparison below (PgIg and the original style in turn, under the same load), so the table and the ratio quote one measurement; peak RSS from the row's own run.");
        }
        foreach (var c in report.Comparisons)
        {
            sb.AppendLine();
            string target = c.Model == "vgg16"
                ? $", target ≤ {TargetRatio.ToString("0.00", inv)}: {(c.Ratio <= TargetRatio ? "met" : "NOT met")}"
                : "";
            sb.AppendLine(inv,
                $"IG on {c.Model}, {c.Images} image(s) in batches of {c.Batch}, {c.PassesPerImage} passes per image, {c.Trials} alternating trial(s) each: " +
                $"PgIg {Sig(c.OursBestSeconds / c.Images)} s/image, original-style autograd {Sig(c.OriginalBestSeconds / c.Images)} s/image (best trials); " +
                $"**ratio {c.Ratio.ToString("0.000", inv)}** (medians: {c.MedianRatio.ToString("0.000", inv)}){target}. " +
                $"Same maps: max |Δ| = {c.MaxAbsDifference.ToString("0.##e+0", inv)} at max |IG| = {c.MaxAbsAttribution.ToString("0.##e+0", inv)}.");
        }
        return sb.ToString();
    }

    /// <summary>Four significant digits (whole numbers from 1000 on), an exponent only below 0.001.</summary>
    static string Sig(double v) =>
        v == 0 || !double.IsFinite(v) ? v.ToString(CultureInfo.InvariantCulture)
        : Math.Abs(v) >= 1000 ? v.ToString("0", CultureInfo.InvariantCulture)
        : Math.Abs(v) >= 1e-3 ? v.ToString("G4", CultureInfo.InvariantCulture)
        : v.ToString("0.###e+0", CultureInfo.InvariantCulture);

    static string Load(double? v) => v is double d ? d.ToString("0.00", CultureInfo.InvariantCulture) : "n/a";

    static string Mib(long? bytes) => bytes is long b ? (b / (1024.0 * 1024)).ToString("0", CultureInfo.InvariantCulture) : "n/a";
}
