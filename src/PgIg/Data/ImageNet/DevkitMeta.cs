using System.Globalization;

namespace PgIg.Data.ImageNet;

/// <summary>
/// What the ILSVRC2012 devkit (<c>ILSVRC2012_devkit_t12</c>) says about the validation set: the 1000 leaf
/// synsets of <c>data/meta.mat</c> and the per-image labels of <c>data/ILSVRC2012_validation_ground_truth.txt</c>.
/// </summary>
public sealed class DevkitMeta
{
    public const string MetaRelativePath = "data/meta.mat";
    public const string GroundTruthRelativePath = "data/ILSVRC2012_validation_ground_truth.txt";

    DevkitMeta(Dictionary<int, string> idToWnid, Dictionary<string, string> wnidToWords)
    {
        IdToWnid = idToWnid;
        WnidToWords = wnidToWords;
        SortedWnids = wnidToWords.Keys.Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>ILSVRC2012_ID (1…1000 for the real devkit) → WNID, leaf synsets only.</summary>
    public IReadOnlyDictionary<int, string> IdToWnid { get; }
    /// <summary>WNID → the synset's "words" (comma-separated class names).</summary>
    public IReadOnlyDictionary<string, string> WnidToWords { get; }
    /// <summary>The leaf WNIDs in ordinal order: position = class index of torchvision's ImageFolder and of Caffe VGG16.</summary>
    public IReadOnlyList<string> SortedWnids { get; }

    public static bool Exists(string devkitDir) =>
        File.Exists(Path.Combine(devkitDir, MetaRelativePath)) && File.Exists(Path.Combine(devkitDir, GroundTruthRelativePath));

    public static DevkitMeta Load(string devkitDir)
    {
        string path = Path.Combine(devkitDir, MetaRelativePath);
        if (!File.Exists(path)) throw new DataSourceException($"devkit metadata not found: {path}");
        try
        {
            return FromSynsets(MatFile.Read(path), path);
        }
        catch (InvalidDataException e)
        {
            throw new DataSourceException($"cannot read {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Keeps synsets with num_children == 0, as torchvision's <c>parse_meta</c> does (it reads the same
    /// fields by position: 0 ILSVRC2012_ID, 1 WNID, 2 words, 4 num_children).
    /// </summary>
    public static DevkitMeta FromSynsets(IReadOnlyDictionary<string, MatArray> variables, string source)
    {
        if (!variables.TryGetValue("synsets", out var v) || v is not MatStructArray synsets)
            throw new InvalidDataException($"{source} has no 'synsets' struct array");
        foreach (var field in new[] { "ILSVRC2012_ID", "WNID", "words", "num_children" })
            if (!synsets.HasField(field)) throw new InvalidDataException($"{source}: 'synsets' lacks field '{field}'");

        var idToWnid = new Dictionary<int, string>();
        var wnidToWords = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < synsets.Count; i++)
        {
            if (Number(synsets, i, "num_children") != 0) continue;
            int id = checked((int)Number(synsets, i, "ILSVRC2012_ID"));
            string wnid = Text(synsets, i, "WNID");
            if (!idToWnid.TryAdd(id, wnid)) throw new InvalidDataException($"{source}: ILSVRC2012_ID {id} appears twice");
            if (!wnidToWords.TryAdd(wnid, Text(synsets, i, "words"))) throw new InvalidDataException($"{source}: WNID {wnid} appears twice");
        }
        if (idToWnid.Count == 0) throw new InvalidDataException($"{source}: no leaf synsets (num_children == 0)");
        return new DevkitMeta(idToWnid, wnidToWords);
    }

    static double Number(MatStructArray s, int i, string field) => s.Get(i, field) is MatNumericArray n
        ? n.Scalar
        : throw new InvalidDataException($"synsets({i + 1}).{field} is not numeric");

    static string Text(MatStructArray s, int i, string field) => s.Get(i, field) is MatCharArray c
        ? c.Text
        : throw new InvalidDataException($"synsets({i + 1}).{field} is not text");

    /// <summary>
    /// One ILSVRC2012_ID per line; line k (1-based) labels ILSVRC2012_val_{k:D8}.JPEG, i.e. the k-th file in
    /// name order. Returns the WNIDs in that order.
    /// </summary>
    public IReadOnlyList<string> ReadGroundTruthWnids(string devkitDir)
    {
        string path = Path.Combine(devkitDir, GroundTruthRelativePath);
        if (!File.Exists(path)) throw new DataSourceException($"devkit ground truth not found: {path}");
        var result = new List<string>(50000);
        int lineNo = 0, blankAt = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            // Only trailing blank lines are harmless; an inner one would shift every later label.
            if (line.Length == 0) { blankAt = blankAt == 0 ? lineNo : blankAt; continue; }
            if (blankAt != 0) throw new DataSourceException($"{path}:{blankAt}: blank line inside the label list");
            if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || !IdToWnid.TryGetValue(id, out var wnid))
                throw new DataSourceException($"{path}:{lineNo}: '{line}' is not a leaf ILSVRC2012_ID of meta.mat");
            result.Add(wnid);
        }
        return result;
    }
}
