namespace PgIg.Stages;

/// <summary>
/// One image's map on a randomised model compared with its map on the original model (Sanity, similarity.parquet).
/// Level k = the top k conv/dense layers re-initialised, named after the lowest of them; level −1 (Layer "random_map") is
/// the reference: the original map against a seeded uniform random map, the similarity of a map that owes the model nothing.
/// </summary>
public sealed class SanityRow
{
    public long ImageId { get; set; }
    public int TargetClass { get; set; }
    public int Level { get; set; }
    public string Layer { get; set; } = "";
    /// <summary>original | recomputed (pattern methods: the original model's patterns, or patterns estimated for the randomised model); none otherwise.</summary>
    public string Patterns { get; set; } = "";
    public double SpearmanAbs { get; set; }
    public double Spearman { get; set; }
    public double Ssim { get; set; }
}

/// <summary>One image's map for another class vs its map for the predicted class, both on the original model (Sanity, class.parquet).</summary>
public sealed class ClassSensitivityRow
{
    public long ImageId { get; set; }
    public int TargetClass { get; set; }
    /// <summary>The second most probable class of the original model.</summary>
    public int OtherClass { get; set; }
    public double SpearmanAbs { get; set; }
    public double Spearman { get; set; }
    public double Ssim { get; set; }
}

/// <summary>The maps of a unit's first image at every level (Sanity, examples.parquet), for the figure in the style of Adebayo et al.:
/// level 0 the original map, k the randomised model's, −2 the other class's.</summary>
public sealed class SanityExampleRow
{
    public long ImageId { get; set; }
    public int Level { get; set; }
    public string Patterns { get; set; } = "";
    public int TargetClass { get; set; }
    public byte[] Map { get; set; } = [];
    public float[] MapValues() => PgIg.Pipeline.Float32.FromBytes(Map);
}
