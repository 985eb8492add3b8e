namespace PgIg.Build;

public enum FixOutcome { NothingToDo, Patched, AlreadyPatched }

/// <summary>
/// Marks a library's required libstdc++ symbol versions weak when the system libstdc++ lacks them,
/// but only where every symbol bound to that version is a known no-op marker. Anything else is a
/// real incompatibility and is reported as an error rather than papered over.
/// </summary>
public static class VerneedFixer
{
    /// <summary>Symbols that exist only as version markers and are never called by the library.</summary>
    public static readonly IReadOnlySet<string> HarmlessMarkers = new HashSet<string>(StringComparer.Ordinal)
    {
        "_ZSt21ios_base_library_initv", // std::ios_base_library_init(), GLIBCXX_3.4.32 (GCC 13)
    };

    public static (FixOutcome Outcome, List<string> Log) Fix(ElfVersionNeeds target, IReadOnlySet<string> systemVersions, string systemFile = "libstdc++.so.6")
    {
        var log = new List<string>();
        var outcome = FixOutcome.NothingToDo;
        foreach (var need in target.Needs.Where(n => n.File == systemFile))
        {
            if (systemVersions.Contains(need.Version)) continue;
            if (need.IsWeak)
            {
                log.Add($"{need.Version}: already weak");
                if (outcome == FixOutcome.NothingToDo) outcome = FixOutcome.AlreadyPatched;
                continue;
            }
            var symbols = target.SymbolsOfVersion(need.Index);
            var unsafeSymbols = symbols.Where(s => !HarmlessMarkers.Contains(s)).ToList();
            if (unsafeSymbols.Count > 0)
                throw new InvalidOperationException(
                    $"{systemFile} on this system lacks {need.Version}, which the library needs for {string.Join(", ", unsafeSymbols)}. " +
                    "Install a newer libstdc++ (GCC 13 or later) to run it.");
            target.MarkWeak(need);
            outcome = FixOutcome.Patched;
            log.Add($"{need.Version}: missing on this system; marked weak (only marker symbols: {string.Join(", ", symbols)})");
        }
        return (outcome, log);
    }

    static readonly string[] LibDirs =
    {
        "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu",
        "/usr/lib64", "/lib64", "/usr/lib", "/lib",
    };

    /// <summary>The libstdc++ the dynamic loader would pick, or null where there is none (not Linux).</summary>
    public static string? FindSystemLibStdCxx()
    {
        var dirs = (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(LibDirs);
        return dirs.Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);
    }
}
