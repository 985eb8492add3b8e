using System.Diagnostics;
using System.Text.RegularExpressions;
using PgIg.Pipeline;
using PgIg.Reporting;
using SkiaSharp;
using Xunit;

namespace PgIg.Tests.Pipeline;

/// <summary>results/report.html: self-contained, complete, and rendered by a real browser (headless Chromium).</summary>
[Collection("pipeline")]
public class HtmlReportTests : IDisposable
{
    readonly PipelineHarness _h = new();

    public void Dispose() => _h.Dispose();

    async Task<(string Dir, string Path, PgIg.Stages.PipelinePlan Plan)> ReportAsync()
    {
        string yaml = _h.Yaml("  - vanilla_grad\n  - pattern_vanilla_grad")
            .Replace("degrade: {patch_size: 4, n_patches: 12}", "degrade: {patch_size: 4, n_patches: 12, orders: [morf, lerf, random]}");
        await _h.RunAsync(yaml);
        var plan = _h.Plan(yaml);
        string dir = plan.Cache.DirectoryOf(plan.PlotsKey!);
        return (dir, Path.Combine(dir, HtmlReport.FileName), plan);
    }

    [Fact]
    public async Task Report_is_self_contained_and_lists_tables_config_keys_and_versions()
    {
        var (dir, path, plan) = await ReportAsync();
        string html = File.ReadAllText(path);
        // self-contained: every figure inlined, nothing fetched, nothing scripted
        var pngs = Directory.GetFiles(dir, "*.png").Select(Path.GetFileName).ToList();
        Assert.Equal(pngs.Count, Regex.Matches(html, "src=\"data:image/png;base64,").Count);
        Assert.DoesNotMatch("(src|href)=\"(?!data:)", html);
        Assert.DoesNotContain("<script", html);
        // the tables, the config and the provenance
        foreach (var s in new[] { "<h2>Summary</h2>", "<h2>Paired comparison</h2>", "<h2>Config</h2>", "<h2>Timings</h2>", "<h2>Stage keys</h2>", "<h2>Software</h2>",
            "TorchSharp", "Parquet.Net", "ScottPlot", ".NET", "&quot;n_patches&quot;: 12", "random_order" })
            Assert.Contains(s, html);
        foreach (var line in File.ReadAllLines(Path.Combine(dir, "pairwise.csv")).Skip(1))
            Assert.Contains($"<td class=\"l\">{line.Split(',')[0]}</td><td class=\"l\">{line.Split(',')[1]}</td><td class=\"l\">{line.Split(',')[2]}</td>", html);
        foreach (var u in plan.Stages.Where(s => s.Group != "Plots").SelectMany(s => s.Units))
            Assert.Contains(u.Key.Hash, html);
        Assert.Contains("report.html", Reports.Publish(dir, Path.Combine(_h.Dir, "results")).Select(Path.GetFileName));
    }

    /// <summary>Skipped, with its reason, only where Chromium is absent and PGIG_REQUIRE_CHROMIUM is not 1 (xunit 2
    /// skips statically, hence the attribute).</summary>
    [ChromiumFact]
    public async Task Report_renders_in_headless_Chromium_without_console_errors()
    {
        var (_, path, _) = await ReportAsync();
        string chromium = Chromium.Find() ?? throw new InvalidOperationException("PGIG_REQUIRE_CHROMIUM=1, but " + ChromiumFactAttribute.Missing);

        // the console check must be able to fail: a page that logs an error is caught
        string bad = Path.Combine(_h.Dir, "bad.html");
        File.WriteAllText(bad, "<!DOCTYPE html><html><body><p>x</p><script>console.error('deliberate failure')</script></body></html>");
        Assert.Contains(Chromium.Render(chromium, bad, Path.Combine(_h.Dir, "bad.png")).ConsoleErrors, e => e.Contains("deliberate failure"));

        string shot = Path.Combine(_h.Dir, "report.png");
        var (errors, log) = Chromium.Render(chromium, path, shot);
        Assert.True(errors.Count == 0, "console errors:\n" + string.Join("\n", errors));
        using var bmp = SKBitmap.Decode(shot);
        Assert.NotNull(bmp);
        int ink = 0, colour = 0, samples = 0;
        for (int y = 0; y < bmp.Height; y += 4)
            for (int x = 0; x < bmp.Width; x += 4)
            {
                var c = bmp.GetPixel(x, y);
                samples++;
                if (c.Red + c.Green + c.Blue < 600) ink++;
                if (Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 80) colour++;
            }
        // text and tables give ink; only the decoded, inlined figures give saturated colour
        Assert.True(ink > samples / 200, $"screenshot nearly blank: {ink} of {samples} samples inked\n{log}");
        Assert.True(colour > samples / 500, $"no figure colours in the screenshot ({colour} of {samples}): the inlined PNGs did not render\n{log}");
    }
}

/// <summary>A fact that needs headless Chromium: skipped with a clear reason where it is absent, a failure where
/// PGIG_REQUIRE_CHROMIUM=1 (CI) says it must be there.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Missing = "headless Chromium is not installed (apt-get install chromium): the report's rendering was not checked";

    public ChromiumFactAttribute()
    {
        if (Chromium.Find() is null && Environment.GetEnvironmentVariable("PGIG_REQUIRE_CHROMIUM") != "1") Skip = Missing;
    }
}

/// <summary>Headless Chromium as Debian installs it; PGIG_CHROMIUM names another binary.</summary>
static class Chromium
{
    public static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("PGIG_CHROMIUM");
        if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? env : null;
        foreach (var d in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
                if (File.Exists(Path.Combine(d, name))) return Path.Combine(d, name);
        return null;
    }

    /// <summary>Screenshots the page and returns its console messages.</summary>
    public static (List<string> ConsoleErrors, string Log) Render(string chromium, string htmlPath, string pngPath)
    {
        string profile = Directory.CreateTempSubdirectory("pgig-chromium-").FullName;
        try
        {
            var psi = new ProcessStartInfo(chromium)
            {
                RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
            };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", $"--user-data-dir={profile}",
                "--window-size=1280,6000", "--enable-logging=stderr", "--v=0", $"--screenshot={pngPath}", new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var outp = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(120_000)) { p.Kill(entireProcessTree: true); throw new TimeoutException("chromium did not finish in 120 s"); }
            string log = outp.Result + err.Result;
            Assert.True(File.Exists(pngPath), $"chromium wrote no screenshot (exit {p.ExitCode}):\n{log}");
            // Chromium 156 logs every console message as "…:INFO:CONSOLE:1] "text", source: …" whatever its level; the
            // report has no scripts, so any console line (an error, a blocked resource) is a failure
            var errors = log.Split('\n').Where(l => l.Contains(":CONSOLE")).Select(l => l.Trim()).ToList();
            return (errors, log);
        }
        finally { Directory.Delete(profile, recursive: true); }
    }
}
