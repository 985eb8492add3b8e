using PgIg.Pipeline;
using Spectre.Console;

namespace PgIg.Cli;

/// <summary>The `pgig status` / `pgig plan` table: at most 100 columns, long reasons wrapped; no colour codes in logs.</summary>
public static class StatusTable
{
    public const int MaxWidth = 100;

    /// <summary>A console on stdout: plain text when redirected or NO_COLOR is set, never wider than <see cref="MaxWidth"/>.</summary>
    public static IAnsiConsole ForStdout()
    {
        bool plain = Console.IsOutputRedirected || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        // a terminal narrower than 100 columns keeps its width; a log gets 100
        console.Profile.Width = Console.IsOutputRedirected ? MaxWidth : Math.Min(MaxWidth, console.Profile.Width);
        return console;
    }

    /// <summary>"fresh/total", plus the units being computed now (the progress of a running cluster job).</summary>
    public static string UnitsColumn(StageStatus s) => $"{s.FreshUnits}/{s.TotalUnits}" + (s.RunningUnits > 0 ? $", {s.RunningUnits} running" : "");

    public static void Write(IAnsiConsole console, IReadOnlyList<StageStatus> st)
    {
        var table = new Table()
            .AddColumn(new TableColumn("stage").NoWrap())
            .AddColumn(new TableColumn("state").NoWrap())
            .AddColumn(new TableColumn("units").NoWrap())
            .AddColumn(new TableColumn("reason")); // the one column that wraps
        foreach (var s in st)
        {
            var color = s.State switch { Freshness.Fresh => "green", Freshness.Stale => "yellow", _ => "red" };
            table.AddRow(Markup.Escape(s.Stage), $"[{color}]{s.State.ToString().ToLowerInvariant()}[/]", UnitsColumn(s), Markup.Escape(s.Reason ?? ""));
        }
        console.Write(table);
    }
}
