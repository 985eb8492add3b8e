namespace PgIg.Bench;

/// <summary>Resident-set figures of this process from /proc/self/status (Linux only; null elsewhere).</summary>
public static class ProcessMemory
{
    /// <summary>Current resident set (VmRSS) in bytes.</summary>
    public static long? Rss() => Read("VmRSS:");

    /// <summary>Peak resident set (VmHWM) in bytes since start or the last <see cref="TryResetPeak"/>.</summary>
    public static long? PeakRss() => Read("VmHWM:");

    /// <summary>
    /// Resets VmHWM to the current RSS (writing 5 to /proc/self/clear_refs, Linux 4.0+), so a peak can
    /// be measured for one phase of the process. False where that is not allowed.
    /// </summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    static long? Read(string key)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[1] == "kB" && long.TryParse(parts[0], out long kb)) return kb * 1024;
        }
        return null;
    }
}
