using PgIg.Pipeline;
using Spectre.Console;
using Xunit;

namespace PgIg.Tests.Pipeline;

public sealed class ProgressTests
{
    [Fact]
    public void Live_bars_show_counts_percent_and_eta_print_log_lines_above_and_give_the_cursor_back()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.Yes, Interactive = InteractionSupport.Yes, ColorSystem = ColorSystemSupport.NoColors,
        });
        var live = new LiveProgress(console);
        live.Report("attribute pgig_50", 10, 40, "shard 2/4"); // 10 done by an earlier run: the ETA uses this process's rate
        Thread.Sleep(250);
        live.Report("attribute pgig_50", 20, 40, "shard 3/4");
        Thread.Sleep(250);
        live.Log("computed attribute:pgig_50/shard-0002");
        live.Report("attribute pgig_50", 40, 40, "shard 4/4");
        live.Finish();

        string text = writer.ToString();
        Assert.Contains("attribute pgig_50 (", text); // intermediate frames depend on scheduling
        Assert.Contains("attribute pgig_50 (40/40), shard 4/4", text);
        Assert.Contains("100%", text);
        Assert.Contains(" done", text);
        Assert.Contains("computed attribute:pgig_50/shard-0002", text);
        Assert.Contains("\u001b[?25l", text); // live display: cursor hidden while drawing ...
        Assert.EndsWith("\u001b[?25h", text.TrimEnd()); // ... and shown again at the end
    }

    [Fact]
    public void Eta_comes_from_this_processs_rate()
    {
        // 10 of 40 done before this process; 10 more in 5 s: 20 left at 2/s
        Assert.Equal("ETA 00:00:10", LiveProgress.EtaText(10, 20, 40, TimeSpan.FromSeconds(5)));
        Assert.Equal("ETA --:--:--", LiveProgress.EtaText(10, 10, 40, TimeSpan.FromSeconds(5)));
        Assert.Equal("done", LiveProgress.EtaText(10, 40, 40, TimeSpan.FromSeconds(5)));
        Assert.Equal("ETA 30:00:00", LiveProgress.EtaText(0, 1, 31, TimeSpan.FromHours(1))); // past a day: hours keep counting
    }

    [Fact]
    public void Redirected_stderr_gets_plain_throttled_lines()
    {
        // test hosts run with redirected output, as CI and log files do
        Assert.True(Console.IsErrorRedirected);
        var (progress, _) = ProgressSinks.ForConsole();
        Assert.IsType<LineProgress>(progress);

        var lines = new List<string>();
        var plain = new LineProgress(lines.Add, TimeSpan.FromHours(1));
        plain.Report("train", 1, 10);
        plain.Report("train", 5, 10);
        plain.Report("train", 10, 10);
        Assert.Single(lines); // throttled: only the finish within the hour
        Assert.DoesNotContain(lines, l => l.Contains('\u001b'));
    }
}
