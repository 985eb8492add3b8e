using System.Runtime.InteropServices;
using PgIg.Formats;
using PgIg.Models;
using PgIg.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Methods;

/// <summary>
/// Attribution maps made elsewhere (Captum, Zennit, …), evaluated like any method: <c>{name, maps, ids}</c> in the config.
/// <c>maps</c> is an .npy of N maps, N×C×H×W float32 (or float64) in the model input's shape, or N×1×H×W (one map for all
/// channels); <c>ids</c> is an .npy of N PgIg image ids (int, as <c>pgig export</c>'s image_ids.npy) or file names (str:
/// paths relative to data.path, a unique base name, or a path that ends in one), naming row by row which image each map
/// explains. Rows are read as their images are needed, so a large file is never loaded whole.
/// </summary>
public sealed class ImportedMaps : AttributionMethod
{
    public const string KindName = "imported";

    public static readonly MethodKind Declaration = new(KindName,
        [
            new ParamSpec("maps", ParamType.Path, "", "N×C×H×W float32 .npy, one map per image"),
            new ParamSpec("ids", ParamType.Path, "", ".npy of N image ids (int) or file names (str), one per map"),
        ],
        "maps read from an .npy file (Captum, Zennit, …)",
        b => new ImportedMaps(b.Method.Path("maps"), b.Method.Path("ids"),
            b.Catalog ?? throw new InvalidOperationException($"method '{b.Method.Name}' matches its maps to the dataset's images, which were not given")),
        NeedsBackward: false)
    {
        FromFiles = true, Validate = m => CheckFiles(m.Path("maps"), m.Path("ids")), Probe = ProbeFiles,
    };

    /// <summary>Fingerprint probe: one-channel maps of the probe images, rows in reverse order, written as .npy files and
    /// read back as a run reads them (matched by id, expanded to the input's channels).</summary>
    static void ProbeFiles(NumericDigest d, MethodProbe.Request r)
    {
        var dir = Directory.CreateTempSubdirectory("pgig-probe-").FullName;
        try
        {
            var ids = MethodProbe.ImageIds.Reverse().ToArray();
            string maps = Path.Combine(dir, "maps.npy"), idsFile = Path.Combine(dir, "ids.npy");
            int plane = ProbeInput.Size * ProbeInput.Size;
            using (var f = File.Create(maps))
                NpyWriter.Write(f, ProbeInput.Uniform("imported", ids.Length * plane).Select(v => (float)v).ToArray(),
                    [ids.Length, 1, ProbeInput.Size, ProbeInput.Size]);
            using (var f = File.Create(idsFile)) NpyWriter.Write(f, ids, [ids.Length]);
            var method = new ImportedMaps(maps, idsFile, ids.ToDictionary(i => i, i => $"img{i}.png"));
            using var scope = torch.NewDisposeScope();
            d.Add("map", method.Attribute(ProbeInput.Input(), ProbeInput.Targets(), new BatchInfo(MethodProbe.ImageIds, 0, "probe")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    readonly string _maps;
    readonly NpyHeader _header;
    readonly long _dataOffset;
    readonly Dictionary<long, int> _rowOf;

    public override string Kind => KindName;
    public override long PassesPerImage => 0;

    /// <param name="catalog">Every image of the dataset: id → file name relative to its root.</param>
    public ImportedMaps(string maps, string ids, IReadOnlyDictionary<long, string> catalog)
    {
        _maps = maps;
        (_header, _dataOffset, int count) = CheckFiles(maps, ids);
        _rowOf = Match(ids, count, catalog);
    }

    /// <summary>
    /// What can be checked without the dataset (at config load): both files exist and parse, the maps are N×C×H×W floats in C
    /// order and the ids are N integers or strings. Returns the maps' header, where its data starts, and N.
    /// </summary>
    public static (NpyHeader Header, long DataOffset, int Count) CheckFiles(string maps, string ids)
    {
        foreach (var f in new[] { maps, ids })
            if (!File.Exists(f)) throw new FileNotFoundException($"{f} does not exist", f);
        NpyHeader header;
        long offset;
        using (var fs = File.OpenRead(maps))
        {
            header = NpyReader.ReadHeader(fs, maps);
            offset = fs.Position;
        }
        if (header.Dtype is not ("<f4" or "<f8"))
            throw new InvalidDataException($"{maps}: dtype {header.Dtype}, expected float32 (or float64) maps");
        if (header.Shape.Length != 4)
            throw new InvalidDataException($"{maps}: shape {NpyHeader.FormatShape(header.Shape)}, expected (N, C, H, W): one C×H×W map per image, in the model input's shape" +
                (header.Shape.Length == 3 ? " (for one map per pixel, save maps[:, None]: N×1×H×W)" : ""));
        if (header.FortranOrder)
            throw new InvalidDataException($"{maps}: stored in Fortran order; save np.ascontiguousarray(maps)");
        NpyHeader idsHeader;
        using (var fs = File.OpenRead(ids)) idsHeader = NpyReader.ReadHeader(fs, ids);
        if (idsHeader.Shape.Length != 1)
            throw new InvalidDataException($"{ids}: shape {NpyHeader.FormatShape(idsHeader.Shape)}, expected (N,): one image id or file name per map");
        if (!NpyHeader.IsText(idsHeader.Dtype) && idsHeader.Dtype is not ("<i8" or "<i4" or "|u1"))
            throw new InvalidDataException($"{ids}: dtype {idsHeader.Dtype}; ids are integers (PgIg image ids, as pgig export's image_ids.npy) or file names (str)");
        if (idsHeader.Shape[0] != header.Shape[0])
            throw new InvalidDataException($"{maps} holds {header.Shape[0]} maps, {ids} names {idsHeader.Shape[0]} images; they go together row by row");
        return (header, offset, checked((int)header.Shape[0]));
    }

    /// <summary>Image id → row of the maps file. Every id or name must be an image of the dataset, and no image may have two rows.</summary>
    static Dictionary<long, int> Match(string ids, int count, IReadOnlyDictionary<long, string> catalog)
    {
        using var fs = File.OpenRead(ids);
        var header = NpyReader.ReadHeader(fs, ids);
        long?[] matched;
        List<string> unknown = [];
        if (NpyHeader.IsText(header.Dtype))
        {
            var names = NpyReader.ReadStrings(fs, header, ids);
            var byPath = catalog.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
            var byBase = catalog.GroupBy(kv => Path.GetFileName(kv.Value), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).ToList(), StringComparer.Ordinal);
            matched = new long?[count];
            for (int i = 0; i < count; i++)
            {
                string name = names[i].Replace('\\', '/');
                matched[i] = ByPath(name, byPath);
                if (matched[i] is null && byBase.TryGetValue(Path.GetFileName(name), out var same))
                {
                    if (same.Count > 1)
                        throw new InvalidDataException($"{ids}: '{names[i]}' (row {i}) could be any of {same.Count} images named so ({string.Join(", ", same.Take(3).Select(id => $"'{catalog[id]}'"))}); " +
                            "give paths relative to data.path");
                    matched[i] = same[0];
                }
                if (matched[i] is null) unknown.Add($"'{names[i]}'");
            }
        }
        else
        {
            fs.Position = 0;
            var values = NpyReader.Read(fs, ids);
            matched = new long?[count];
            for (int i = 0; i < count; i++)
            {
                long id = values.Dtype switch
                {
                    "<i8" => MemoryMarshal.Cast<byte, long>(values.Data)[i],
                    "<i4" => MemoryMarshal.Cast<byte, int>(values.Data)[i],
                    _ => values.Data[i],
                };
                if (catalog.ContainsKey(id)) matched[i] = id;
                else unknown.Add(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        if (unknown.Count > 0)
            throw new InvalidDataException($"{ids}: {unknown.Count} of its {count} entries name no image of the dataset, e.g. {string.Join(", ", unknown.Take(5))}; " +
                $"ids are PgIg image ids (pgig export's image_ids.npy) or file names relative to data.path (pgig export's image_files.npy), and the dataset has {catalog.Count} images");
        var rowOf = new Dictionary<long, int>();
        for (int i = 0; i < count; i++)
            if (!rowOf.TryAdd(matched[i]!.Value, i))
                throw new InvalidDataException($"{ids}: rows {rowOf[matched[i]!.Value]} and {i} both name image '{catalog[matched[i]!.Value]}'; each image has one map");
        return rowOf;
    }

    /// <summary>The image a path names: relative to the dataset root, or any path that ends in such a one (an absolute path).</summary>
    static long? ByPath(string name, Dictionary<string, long> byPath)
    {
        for (string rest = name; ; rest = rest[(rest.IndexOf('/', StringComparison.Ordinal) + 1)..])
        {
            if (byPath.TryGetValue(rest, out long id)) return id;
            if (!rest.Contains('/', StringComparison.Ordinal)) return null;
        }
    }

    public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch)
    {
        long c = _header.Shape[1], h = _header.Shape[2], w = _header.Shape[3];
        long inC = x.shape[1];
        if ((c != inC && c != 1) || h != x.shape[2] || w != x.shape[3])
            throw new InvalidDataException($"{_maps}: maps of shape {NpyHeader.FormatShape(_header.Shape[1..])} (of {NpyHeader.FormatShape(_header.Shape)}), " +
                $"but the model's input is {NpyHeader.FormatShape(x.shape[1..])}; each map must have the input's shape ({inC}×{x.shape[2]}×{x.shape[3]}, or 1×{x.shape[2]}×{x.shape[3]})");
        string Describe(int i) => batch.Files is { } f ? $"'{f[i]}' (id {batch.ImageIds[i]})" : $"id {batch.ImageIds[i]}";
        var missing = Enumerable.Range(0, batch.ImageIds.Length).Where(i => !_rowOf.ContainsKey(batch.ImageIds[i])).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{_maps}: no map for {missing.Count} image(s) of the evaluation set in this batch, e.g. {string.Join(", ", missing.Take(5).Select(Describe))}; " +
                $"the file has maps for {_rowOf.Count} images. Compute a map for every evaluation image (pgig export lists them: image_ids.npy, image_files.npy), or lower val_size");

        long per = c * h * w;
        int item = _header.ItemSize;
        var values = new float[batch.ImageIds.Length * per];
        var raw = new byte[per * item];
        using (var fs = File.OpenRead(_maps))
        {
            for (int i = 0; i < batch.ImageIds.Length; i++)
            {
                int row = _rowOf[batch.ImageIds[i]];
                fs.Position = _dataOffset + row * per * item;
                fs.ReadExactly(raw);
                var dst = values.AsSpan((int)(i * per), (int)per);
                if (item == 4) MemoryMarshal.Cast<byte, float>(raw).CopyTo(dst);
                else
                {
                    var src = MemoryMarshal.Cast<byte, double>(raw);
                    for (int k = 0; k < per; k++) dst[k] = (float)src[k];
                }
                foreach (float v in dst)
                    if (!float.IsFinite(v))
                        throw new InvalidDataException($"{_maps}: the map of {Describe(i)} (row {row}) holds {(float.IsNaN(v) ? "NaN" : "infinite")} values; degradation ranks by the map, which needs finite numbers");
            }
        }
        var maps = torch.tensor(values, new[] { (long)batch.ImageIds.Length, c, h, w });
        // one map for all channels: ranking sums channels, so repeating it ranks patches exactly as the single map does
        return (c == inC ? maps : maps.expand(-1, inC, -1, -1).contiguous()).to(x.dtype).to(x.device);
    }
}
