using PgIg.Cli;
using PgIg.Pipeline;
using PgIg.Tests.TestSupport;
using Spectre.Console;
using Xunit;

namespace PgIg.Tests.Cli;

public sealed class StatusTableTests
{
    [Fact]
    public void Long_reasons_wrap_within_100_columns_and_stage_names_stay_whole()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer) });
        console.Profile.Width = StatusTable.MaxWidth;
        string longReason = "invalid artifact: /home/someone/projects/pgig/.pgig-cache/attribute/0123456789abcdef0123456789abcdef/maps.parquet: content hash does not match the manifest";
        StatusTable.Write(console, [
            new StageStatus("Attribute:pattern_integrate_grad_with_a_long_name", Freshness.Stale, 3, 10, longReason),
            new StageStatus("Degrade:vanilla_grad", Freshness.Missing, 0, 10, "degrade.n_patches 49 → 12; upstream.attribute changed; quirks.skip_top_patch true → false; and 2 more"),
        ]);
        var text = writer.ToString();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.True(l.TrimEnd('\r').Length <= 100, $"{l.Length} columns: {l}"));
        Assert.Contains("Attribute:pattern_integrate_grad_with_a_long_name", text);
        Assert.Contains("content hash does not match", string.Join(" ", lines.Select(l => l.Trim('│', ' ', '\r'))).Replace("  ", " "));
        Assert.DoesNotContain('\u001b', text);
    }

    [Fact]
    public async Task Redirected_status_has_no_colour_codes_and_fits_100_columns()
    {
        var dir = Directory.CreateTempSubdirectory("pgig-status-").FullName;
        try
        {
            var cfg = Path.Combine(dir, "c.yaml");
            File.WriteAllText(cfg, $"track: fashion-mnist\nval_size: 20\nbatch_size: 10\ncache_dir: {Path.Combine(dir, "cache")}\nmethods: [vanilla_grad, pattern_integrate_grad]\n");
            // TERM and colour hints set as on a terminal: the redirect alone must turn colour off
            var r = await PgigProcess.RunAsync(dir, new Dictionary<string, string?> { ["TERM"] = "xterm-256color", ["COLORTERM"] = "truecolor", ["NO_COLOR"] = null }, "status", "--config", cfg);
            Assert.Equal(0, r.ExitCode);
            Assert.DoesNotContain('\u001b', r.All);
            Assert.All(r.Stdout.Split('\n'), l => Assert.True(l.Length <= 100, l));
            Assert.Contains("Attribute:pattern_integrate_grad", r.Stdout);
        }
        finally { Directory.Delete(dir, true); }
    }
}
