using PgIg.Pipeline;

namespace PgIg.Stages;

/// <summary>One image's attribution map (C×H×W, binary little-endian float32) and the class it explains.</summary>
public sealed class MapRow
{
    public long ImageId { get; set; }
    public int TargetClass { get; set; }
    public byte[] Map { get; set; } = [];
    public float[] MapValues() => Float32.FromBytes(Map);
}

/// <summary>One image's degradation curve: p(target class) after each step.</summary>
public sealed class CurveRow
{
    public long ImageId { get; set; }
    public int TargetClass { get; set; }
    public string Order { get; set; } = "";
    public float[] Curve { get; set; } = [];
}
