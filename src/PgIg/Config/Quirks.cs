namespace PgIg.Config;

public enum Protocol { Faithful, Corrected }

/// <summary>
/// The original's number-changing quirks (spec §14), each a named switch. `protocol: faithful` sets
/// every switch to the original's behaviour, `protocol: corrected` to the fixed one; any switch can be
/// overridden under `quirks:` in the config.
/// </summary>
public sealed record Quirks
{
    /// <summary>B1: step p degrades ranks 1…p, so the most relevant patch is never degraded.</summary>
    public bool SkipTopPatch { get; init; }
    /// <summary>B2: a channel is replaced only where its patch mean is &gt; 0.</summary>
    public bool PositiveOnlyReplacement { get; init; }
    /// <summary>B3: IG uses α = 1/m…(m−1)/m and divides by m (no α = 1 term). false: α = 1/m…1.</summary>
    public bool IgExcludeEndpoint { get; init; }
    /// <summary>B4: SmoothGrad noise accumulates across samples.</summary>
    public bool CumulativeNoise { get; init; }
    /// <summary>B5: SmoothGrad gradients accumulate across samples (un-zeroed .grad).</summary>
    public bool CumulativeGradient { get; init; }
    /// <summary>B7: SmoothGrad σ from the whole batch's range instead of each image's.</summary>
    public bool BatchSigma { get; init; }
    /// <summary>B8: exp_grad baselines are the batch's other images with one α per step for the batch.</summary>
    public bool ExpGradBatchBaselines { get; init; }
    /// <summary>B9: the backward starts at the softmax output (true) or at the logits (false).</summary>
    public bool BackpropFromSoftmax { get; init; }
    /// <summary>B17: pattern methods and guided backprop seed with p_c (true) or 1 (false).</summary>
    public bool ProbabilitySeedForPatternAndGuided { get; init; }
    /// <summary>B22: patches ranked by the signed channel sum (true) or by its absolute value (false).</summary>
    public bool SignedRanking { get; init; }

    public static Quirks Faithful { get; } = new()
    {
        SkipTopPatch = true, PositiveOnlyReplacement = true, IgExcludeEndpoint = true, CumulativeNoise = true,
        CumulativeGradient = true, BatchSigma = true, ExpGradBatchBaselines = true, BackpropFromSoftmax = true,
        ProbabilitySeedForPatternAndGuided = true, SignedRanking = true,
    };

    public static Quirks Corrected { get; } = new()
    {
        SkipTopPatch = false, PositiveOnlyReplacement = false, IgExcludeEndpoint = false, CumulativeNoise = false,
        CumulativeGradient = false, BatchSigma = false, ExpGradBatchBaselines = false, BackpropFromSoftmax = false,
        ProbabilitySeedForPatternAndGuided = false, SignedRanking = true,
    };

    public static Quirks For(Protocol p) => p == Protocol.Faithful ? Faithful : Corrected;

    /// <summary>Config names (snake_case), with the spec's bug id, for docs, errors and keys.</summary>
    public static readonly IReadOnlyList<(string Name, string Bug, Func<Quirks, bool> Get, Func<Quirks, bool, Quirks> Set)> Switches = new (string, string, Func<Quirks, bool>, Func<Quirks, bool, Quirks>)[]
    {
        ("skip_top_patch", "B1", q => q.SkipTopPatch, (q, v) => q with { SkipTopPatch = v }),
        ("positive_only_replacement", "B2", q => q.PositiveOnlyReplacement, (q, v) => q with { PositiveOnlyReplacement = v }),
        ("ig_exclude_endpoint", "B3", q => q.IgExcludeEndpoint, (q, v) => q with { IgExcludeEndpoint = v }),
        ("cumulative_noise", "B4", q => q.CumulativeNoise, (q, v) => q with { CumulativeNoise = v }),
        ("cumulative_gradient", "B5", q => q.CumulativeGradient, (q, v) => q with { CumulativeGradient = v }),
        ("batch_sigma", "B7", q => q.BatchSigma, (q, v) => q with { BatchSigma = v }),
        ("exp_grad_batch_baselines", "B8", q => q.ExpGradBatchBaselines, (q, v) => q with { ExpGradBatchBaselines = v }),
        ("backprop_from_softmax", "B9", q => q.BackpropFromSoftmax, (q, v) => q with { BackpropFromSoftmax = v }),
        ("probability_seed", "B17", q => q.ProbabilitySeedForPatternAndGuided, (q, v) => q with { ProbabilitySeedForPatternAndGuided = v }),
        ("signed_ranking", "B22", q => q.SignedRanking, (q, v) => q with { SignedRanking = v }),
    };

    /// <summary>"faithful protocol", or with the switches that differ from it, e.g.
    /// "faithful protocol, skip_top_patch: false (B1)", for plot subtitles and logs.</summary>
    public string Describe(Protocol protocol)
    {
        var defaults = For(protocol);
        var changed = Switches.Where(s => s.Get(this) != s.Get(defaults))
            .Select(s => $"{s.Name}: {(s.Get(this) ? "true" : "false")} ({s.Bug})").ToList();
        string name = $"{protocol.ToString().ToLowerInvariant()} protocol";
        return changed.Count == 0 ? name : $"{name}, {string.Join(", ", changed)}";
    }

    public SortedDictionary<string, object?> ToKeyObject() =>
        new(Switches.ToDictionary(s => s.Name, s => (object?)s.Get(this)), StringComparer.Ordinal);
}
