using PgIg.Cli;
using PgIg.Tests.TestSupport;
using Xunit;

namespace PgIg.Tests.Cli;

/// <summary>Failures reach the user as one line naming the file and the fix; a stack trace only with --debug.</summary>
public sealed class ErrorMessageTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-errors-").FullName;

    public void Dispose()
    {
        if (_mounted) Umount(Path.Combine(_dir, "full"));
        Directory.Delete(_dir, recursive: true);
    }

    bool _mounted;

    public sealed class Row
    {
        public long Id { get; set; }
    }

    [Fact]
    public async Task A_full_disk_inside_a_library_is_one_line_naming_the_path_and_the_fix()
    {
        // Parquet.Net wraps the ENOSPC IOException in its own ApplicationException; /dev/full refuses every write with ENOSPC
        if (!File.Exists("/dev/full")) return;
        Exception? caught = null;
        try
        {
            await using var fs = new FileStream("/dev/full", FileMode.Open, FileAccess.Write);
            await Parquet.Serialization.ParquetSerializer.SerializeAsync(Enumerable.Range(0, 100_000).Select(i => new Row { Id = i }), fs);
            await fs.FlushAsync();
        }
        catch (Exception e) { caught = e; }
        Assert.NotNull(caught);
        var (message, expected) = ErrorReport.Describe(caught!);
        Assert.True(expected, message);
        Assert.StartsWith("no space left on the device writing /dev/full.", message);
        Assert.Contains("--cache-dir", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void An_unexpected_exception_is_one_line_that_points_at_debug()
    {
        var (message, expected) = ErrorReport.Describe(new AggregateException(new OverflowException("Arithmetic operation resulted in an overflow.")));
        Assert.False(expected);
        Assert.Equal("OverflowException: Arithmetic operation resulted in an overflow.. This is a bug in pgig; rerun with --debug for the stack trace and report it", message);
    }

    static bool TryMountTmpfs(string dir, string size)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return false;
        Directory.CreateDirectory(dir);
        try { return PgigProcess.RunProgramAsync("mount", null, null, "-t", "tmpfs", "-o", $"size={size}", "tmpfs", dir).GetAwaiter().GetResult().ExitCode == 0; }
        catch (System.ComponentModel.Win32Exception) { return false; } // no mount program
    }

    static void Umount(string dir) => PgigProcess.RunProgramAsync("umount", null, null, dir).GetAwaiter().GetResult();

    [Fact]
    public async Task A_run_on_a_full_disk_prints_one_line_and_a_stack_trace_only_with_debug()
    {
        Pipeline.PipelineHarness.RequireFashionData();
        // a real small file system where the system allows mounting one; else the run log is /dev/full
        string cache = Path.Combine(_dir, "full", "cache");
        _mounted = TryMountTmpfs(Path.Combine(_dir, "full"), "256k");
        if (!_mounted)
        {
            if (!File.Exists("/dev/full")) return;
            Directory.CreateDirectory(cache);
            File.CreateSymbolicLink(Path.Combine(cache, "runlog.jsonl"), "/dev/full");
        }
        string cfg = Path.Combine(_dir, "c.yaml");
        File.WriteAllText(cfg, $"""
            track: fashion-mnist
            val_size: 20
            batch_size: 10
            cache_dir: {cache}
            methods: [vanilla_grad]
            """);

        var plain = await PgigProcess.RunAsync(_dir, null, "run", "Data", "--config", cfg);
        Assert.Equal(1, plain.ExitCode);
        var errors = plain.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(errors.Length == 1, plain.Stderr);
        Assert.StartsWith($"pgig: error: no space left on the device writing {cache}", errors[0]);
        Assert.Contains("Free space on that file system", errors[0]);

        var debug = await PgigProcess.RunAsync(_dir, null, "run", "Data", "--config", cfg, "--debug");
        Assert.Equal(1, debug.ExitCode);
        Assert.Contains("pgig: error: no space left on the device", debug.Stderr);
        Assert.Contains("   at ", debug.Stderr);
    }
}
