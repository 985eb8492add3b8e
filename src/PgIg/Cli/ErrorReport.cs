using System.Reflection;
using System.Text.RegularExpressions;
using PgIg.Config;

namespace PgIg.Cli;

/// <summary>
/// Turns an exception that reached the command line into one line: what went wrong, the file or option
/// concerned and the fix. Stack traces are for `--debug` only.
/// </summary>
public static partial class ErrorReport
{
    /// <summary>The message to print and whether the failure is an expected (user or environment) one rather than a bug.</summary>
    public static (string Message, bool Expected) Describe(Exception e)
    {
        var chain = Chain(e).ToList();
        // disk full anywhere in the chain: libraries (Parquet) wrap the IOException in their own exceptions
        if (chain.OfType<IOException>().FirstOrDefault(IsDiskFull) is { } full) return (DiskFull(full), true);
        // the outermost exception that we raised on purpose or that describes a file/network/OS problem
        if (chain.FirstOrDefault(IsExpected) is { } known) return (OneLine(known.Message), true);
        var inner = chain[^1];
        return ($"{inner.GetType().Name}: {OneLine(inner.Message)}. This is a bug in pgig; rerun with --debug for the stack trace and report it", false);
    }

    static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : x.InnerException)
            if (x is not (AggregateException or TargetInvocationException or TypeInitializationException)) yield return x;
            else if (x.InnerException is null) yield return x;
    }

    static bool IsExpected(Exception e) =>
        e is ConfigException or InvalidDataException or IOException or UnauthorizedAccessException or InvalidOperationException
            or ArgumentException or HttpRequestException or TimeoutException or OperationCanceledException
        || e.GetType().Namespace?.StartsWith("PgIg", StringComparison.Ordinal) == true && e.GetType().Name.EndsWith("Exception", StringComparison.Ordinal);

    // ENOSPC (.NET puts errno in HResult on Unix); ERROR_HANDLE_DISK_FULL and ERROR_DISK_FULL on Windows
    static readonly int[] DiskFullCodes = [28, unchecked((int)0x80070027), unchecked((int)0x80070070)];

    static bool IsDiskFull(IOException e) =>
        DiskFullCodes.Contains(e.HResult)
        || e.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("not enough space on the disk", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase);

    static string DiskFull(IOException e)
    {
        // .NET on Unix: "No space left on device : '/path'"
        var m = QuotedPath().Match(e.Message);
        string what = m.Success ? $"writing {m.Groups[1].Value}" : $"({OneLine(e.Message)})";
        return $"no space left on the device {what}. Free space on that file system, or point the cache (cache_dir, --cache-dir) " +
               "or the results (results_dir, --results-dir) at one with room; unfinished artifacts are never published, and rerunning resumes from the finished ones";
    }

    static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex(@":\s*'([^']+)'\s*$")]
    private static partial Regex QuotedPath();
}
