namespace PgIg.Bench;

/// <summary>Sizes and limits of one benchmark measurement.</summary>
/// <param name="Images">Images explained per trial.</param>
/// <param name="Batch">Images per method call (the pipeline's batch size).</param>
/// <param name="MemoryBudgetBytes">The engine's chunking budget (config memory_budget_mb).</param>
/// <param name="MaxTrials">Timed trials at most; the best and the median are reported.</param>
/// <param name="TimeBudgetSeconds">No further trial starts once timed trials have taken this long (at least one always runs).</param>
/// <param name="Quick">Tiny method parameters (see <see cref="BenchMethods"/>).</param>
/// <param name="Device">auto, cpu or cuda (<see cref="Util.Devices"/>).</param>
public sealed record BenchSettings(int Images, int Batch, long MemoryBudgetBytes, int MaxTrials, double TimeBudgetSeconds, bool Quick, long Seed, string Device = "cpu");

/// <summary>One timed (model, method, engine) row.</summary>
/// <param name="Engine">"pgig" or "autograd" (the original-style reference).</param>
/// <param name="PeakRssBytes">VmHWM during the timed trials (reset when timing starts), whole process.</param>
/// <param name="StartRssBytes">VmRSS when timing started (runtime, weights, inputs, warm-up leftovers).</param>
/// <param name="PeakIsolated">True when the peak was measured in a child process of its own.</param>
/// <param name="TimedInComparison">
/// The times (trials, best, median) are those of the alternating IG comparison, not of this row's own run:
/// see <see cref="BenchSuite.UseComparisonTimes"/>. Memory stays this row's own.
/// </param>
public sealed record BenchResult(
    string Model, string Method, string Engine, string Params, int Images, int Batch, long PassesPerImage,
    long ForwardMacs, double FlopsPerPass, int Trials, double BestSeconds, double MedianSeconds,
    long? PeakRssBytes, long? StartRssBytes, bool PeakIsolated, int Threads, bool TimedInComparison = false)
{
    public double SecondsPerImage => BestSeconds / Images;
    public double ImagesPerSecond => Images / BestSeconds;
    public double PassesPerSecond => PassesPerImage * Images / BestSeconds;
    public double GflopPerSecond => PassesPerSecond * FlopsPerPass / 1e9;
    public long? PeakDeltaBytes => PeakRssBytes - StartRssBytes;
}

/// <summary>PgIg's integrate_grad and the original-style autograd IG timed alternately in one process.</summary>
/// <param name="Ratio">PgIg time / original-style time, from the best trial of each.</param>
/// <param name="MaxAbsDifference">max |PgIg − original-style| over the attribution maps of the first batch.</param>
/// <param name="MaxAbsAttribution">max |attribution| of the same maps, for scale.</param>
public sealed record IgComparison(
    string Model, int Images, int Batch, int Steps, long PassesPerImage, int Trials,
    double OursBestSeconds, double OursMedianSeconds, double OriginalBestSeconds, double OriginalMedianSeconds,
    double MaxAbsDifference, double MaxAbsAttribution, int Threads)
{
    public double Ratio => OursBestSeconds / OriginalBestSeconds;
    public double MedianRatio => OursMedianSeconds / OriginalMedianSeconds;
}
