using System.Globalization;
using PgIg.Bench;
using PgIg.Cli;
using Xunit;
using Xunit.Abstractions;

namespace PgIg.Tests.Bench;

public class DegradeBenchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Quick_degrade_bench_on_the_fashion_cnn_times_both_engines_and_finds_the_same_curves()
    {
        var dir = Directory.CreateTempSubdirectory("pgig-bench-degrade-");
        try
        {
            var path = Path.Combine(dir.FullName, "bench.md");
            Assert.Equal(0, await PgIgCli.RunAsync(["bench", "--model", "fashion-cnn", "--degrade", "--quick", "--out", path]));
            var text = File.ReadAllText(path);
            output.WriteLine(text);
            Assert.Contains("### pgig bench --degrade", text);
            Assert.Contains("Command: `pgig bench --model fashion-cnn --degrade --quick --out", text);
            var row = text.Split('\n').Single(l => l.StartsWith("| fashion-cnn |", StringComparison.Ordinal));
            var cells = row.Split('|', StringSplitOptions.TrimEntries);
            // | model | images (batch) | patch | steps | trials | full s/image | incremental s/image | speed-up | median | CPU speed-up | max |Δp| |
            Assert.Equal(("8 (8)", "4", "49"), (cells[2], cells[3], cells[4]));
            Assert.True(int.Parse(cells[5], CultureInfo.InvariantCulture) >= 1);
            Assert.True(double.Parse(cells[6], CultureInfo.InvariantCulture) > 0 && double.Parse(cells[7], CultureInfo.InvariantCulture) > 0, row);
            Assert.True(double.Parse(cells[11], CultureInfo.InvariantCulture) <= 1e-6, row);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public async Task Degrade_options_are_checked_before_timing()
    {
        Assert.Equal(1, await PgIgCli.RunAsync(["bench", "--model", "fashion-cnn", "--quick", "--steps", "5"]));
        Assert.Equal(1, await PgIgCli.RunAsync(["bench", "--model", "fashion-cnn", "--quick", "--degrade", "--steps", "0"]));
        Assert.Equal(1, await PgIgCli.RunAsync(["bench", "--model", "fashion-cnn", "--quick", "--degrade", "--full-map-fraction", "1.5"]));
        Assert.Equal(1, await PgIgCli.RunAsync(["bench", "--model", "fashion-cnn", "--quick", "--degrade", "--window-threads", "-1"]));
        Assert.Equal(1, await PgIgCli.RunAsync(["bench", "--model", "fashion-cnn", "--quick", "--window-threads", "2"]));
        // a 7×7 grid has 49 patches: at most 50 steps under the corrected protocol
        Assert.Equal(1, await PgIgCli.RunAsync(["bench", "--model", "fashion-cnn", "--quick", "--degrade", "--steps", "51"]));
    }
}
