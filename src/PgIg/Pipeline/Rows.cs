namespace PgIg.Pipeline;

// Parquet row types of the stage artifacts (schemas documented in docs/ARTIFACTS.md).

/// <summary>An image as stored uint8 pixels (C×H×W, the track's channel order); normalised on load.</summary>
public sealed class ImageRow
{
    public long ImageId { get; set; }
    public int Label { get; set; }
    public string File { get; set; } = "";
    public int Channels { get; set; }
    public int Height { get; set; }
    public int Width { get; set; }
    public byte[] Pixels { get; set; } = [];
}

public sealed class LabelRow
{
    public string Split { get; set; } = "";
    public long Index { get; set; }
    public int Label { get; set; }
}

/// <summary>A named float32 tensor (model weights, patterns), in PyTorch layout.</summary>
public sealed class TensorRow
{
    public int Index { get; set; }
    public string Name { get; set; } = "";
    public long[] Shape { get; set; } = [];
    public float[] Values { get; set; } = [];
}

/// <summary>One image's attribution map (C×H×W, float32) and the class it explains.</summary>
public sealed class MapRow
{
    public long ImageId { get; set; }
    public int TargetClass { get; set; }
    public float[] Map { get; set; } = [];
}

/// <summary>One image's degradation curve: p(target class) after each step.</summary>
public sealed class CurveRow
{
    public long ImageId { get; set; }
    public int TargetClass { get; set; }
    public string Order { get; set; } = "";
    public float[] Curve { get; set; } = [];
}
