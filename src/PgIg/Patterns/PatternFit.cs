using System.Globalization;

namespace PgIg.Patterns;

/// <summary>
/// How well a pattern file fits the model it is used with: PatternNet a₊ patterns satisfy wᵀa = 1 for every
/// unit that has a pattern (spec §3.2), so the mean |wᵀa − 1| is ≈ 0 for the model's own patterns.
/// </summary>
public static class PatternFit
{
    /// <summary>Mean |wᵀa − 1| up to which the patterns count as the model's own (float32 round-off stays far below it).</summary>
    public const double MatchThreshold = 0.05;

    /// <summary>The log line for the Patterns check: a match only below <see cref="MatchThreshold"/>, else a warning.</summary>
    public static string Describe(double meanAbsWtaMinus1)
    {
        string value = meanAbsWtaMinus1.ToString("0.####", CultureInfo.InvariantCulture);
        return meanAbsWtaMinus1 <= MatchThreshold
            ? $"  patterns match the model: mean |wᵀa − 1| = {value} (≤ {MatchThreshold.ToString(CultureInfo.InvariantCulture)})"
            : $"  warning: the patterns may not belong to this model: mean |wᵀa − 1| = {value}, above {MatchThreshold.ToString(CultureInfo.InvariantCulture)} " +
              "(a₊ patterns of this model give ≈ 0); check that patterns.path was estimated for model.weights";
    }
}
