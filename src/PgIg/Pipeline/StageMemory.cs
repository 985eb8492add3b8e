using System.Runtime.InteropServices;

namespace PgIg.Pipeline;

/// <summary>
/// Gives memory back between stages of one process: the managed heap is collected (tensors whose owners are gone are
/// finalized, freeing their native storage), then glibc is asked to return its free pages to the system: libtorch
/// frees to malloc, which otherwise keeps a stage's peak as the next stage's floor. PGIG_MALLOC_TRIM=0 turns the
/// trim off (for measuring what it does; see docs/BENCHMARKS.md).
/// </summary>
public static class StageMemory
{
    static readonly bool Trim = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("PGIG_MALLOC_TRIM") != "0";
    static bool _trimMissing;

    public static void Release()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        if (!Trim || _trimMissing) return;
        try { _ = malloc_trim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { _trimMissing = true; } // not glibc (musl)
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int malloc_trim(nuint pad);
}
