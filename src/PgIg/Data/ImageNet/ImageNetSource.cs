using System.Text.RegularExpressions;

namespace PgIg.Data.ImageNet;

/// <summary>One image with its label. <see cref="ClassIndex"/> is the rank of <see cref="Wnid"/> among the classes.</summary>
public sealed record LabeledImage(string Path, string Wnid, int ClassIndex, string FileName);

public enum ImageNetLayout
{
    /// <summary>(a) <c>root/val/&lt;wnid&gt;/*.JPEG</c> as torchvision's ImageNet leaves it, or <c>root/&lt;wnid&gt;/…</c>.</summary>
    Torchvision,
    /// <summary>(b) flat <c>ILSVRC2012_val_*.JPEG</c> files plus the ILSVRC2012 devkit.</summary>
    DevkitFlat,
    /// <summary>(c) Kaggle's ImageNet Object Localization Challenge download.</summary>
    Kaggle,
    /// <summary>(d) any <c>root/&lt;class&gt;/&lt;images&gt;</c> folder tree.</summary>
    ImageFolder,
}

/// <summary>What <see cref="ImageNetSource.Describe"/> found: the layout, the class list (index → name) and the images.</summary>
public sealed record ImageSourceInfo(ImageNetLayout Layout, string ImageRoot, IReadOnlyList<string> Classes, IReadOnlyList<LabeledImage> Images);

/// <summary>
/// Finds labelled validation images under a folder in any of the accepted layouts and lists them in
/// torchvision ImageFolder order: by class index, then by file path.
/// </summary>
/// <remarks>
/// Class index = rank of the class name in ordinal order. Where the metadata lists all classes (devkit
/// meta.mat, Kaggle's LOC_synset_mapping.txt) the rank is over all of them, so a partial copy of ImageNet
/// keeps the 0…999 indices of the model; otherwise (folder layouts, as torchvision) it is over the class
/// folders present, empty ones included. Only labels feed the stratified subset; predictions come from the model.
/// </remarks>
public static partial class ImageNetSource
{
    /// <summary>Extensions that are listed (case-insensitive); torchvision also lists ppm/pgm/tif, which are not decodable here.</summary>
    public static readonly IReadOnlyList<string> ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    public const string DevkitFolder = "ILSVRC2012_devkit_t12";
    public const string FlatValFolder = "ILSVRC2012_img_val";
    public const string KaggleSolutionCsv = "LOC_val_solution.csv";
    public const string KaggleSynsetMapping = "LOC_synset_mapping.txt";
    public static readonly string KaggleValFolder = Path.Combine("ILSVRC", "Data", "CLS-LOC", "val");

    [GeneratedRegex("^n[0-9]{8}$")]
    private static partial Regex WnidPattern();

    [GeneratedRegex("^ILSVRC2012_val_([0-9]{8})\\.JPEG$", RegexOptions.IgnoreCase)]
    private static partial Regex ValFilePattern();

    public static bool IsWnid(string name) => WnidPattern().IsMatch(name);

    /// <summary>The 1-based index in an ILSVRC2012 val file name (ILSVRC2012_val_00000042.JPEG → 42), or null.</summary>
    public static int? ValFileNumber(string fileName)
    {
        var m = ValFilePattern().Match(fileName);
        return m.Success ? int.Parse(m.Groups[1].ValueSpan, provider: System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    public static IReadOnlyList<LabeledImage> Open(string root) => Describe(root).Images;

    public static ImageSourceInfo Describe(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        string full = Path.GetFullPath(root);
        if (!Directory.Exists(full)) throw new DataSourceException($"data folder does not exist: {full}\n{AcceptedLayouts(full)}");

        // (c) Kaggle: the CSV decides, since its val folder is also flat.
        if (File.Exists(Path.Combine(full, KaggleSolutionCsv)) && Directory.Exists(Path.Combine(full, KaggleValFolder)))
            return Kaggle(full);

        // (a) torchvision: root/val (or the older root/ILSVRC/2012/val) with class folders.
        foreach (var val in new[] { Path.Combine(full, "val"), Path.Combine(full, "ILSVRC", "2012", "val") })
            if (HasClassFolders(val)) return Folder(val, ImageNetLayout.Torchvision);

        // (b) flat val files + devkit.
        string devkit = Path.Combine(full, DevkitFolder);
        string? flat = new[] { Path.Combine(full, FlatValFolder), Path.Combine(full, "val"), full }.FirstOrDefault(HasValFiles);
        if (flat is not null && DevkitMeta.Exists(devkit)) return DevkitFlat(flat, devkit);
        // Unlabelled ImageNet files must not pass as a one-class image folder below.
        if (flat is not null || Directory.Exists(Path.Combine(full, KaggleValFolder)))
            throw new DataSourceException(NothingFound(full, flat, devkit));

        // (a) given directly / (d) generic image folder.
        if (HasClassFolders(full))
        {
            var classes = SubDirectories(full).Select(Path.GetFileName).ToList();
            return Folder(full, classes.All(c => IsWnid(c!)) ? ImageNetLayout.Torchvision : ImageNetLayout.ImageFolder);
        }

        throw new DataSourceException(NothingFound(full, flat, devkit));
    }

    /// <summary>The message for an unrecognised folder: every accepted layout and the download option.</summary>
    public static string AcceptedLayouts(string root) =>
        $"""
        Accepted layouts under {root}:
          (a) torchvision:  val/<wnid>/*.JPEG  (or <wnid>/*.JPEG directly in it)
          (b) flat+devkit:  {FlatValFolder}/ILSVRC2012_val_*.JPEG (or those files directly in it) and
                            {DevkitFolder}/{DevkitMeta.MetaRelativePath} + {DevkitFolder}/{DevkitMeta.GroundTruthRelativePath}
          (c) Kaggle:       {KaggleSolutionCsv} and {KaggleValFolder.Replace('\\', '/')}/*.JPEG
          (d) image folder: <class>/<images> with extensions {string.Join(", ", ImageExtensions.Select(e => e[1..]))} (any case)
        To download the ImageNet validation set instead, pass --imagenet-key=KEY or set PGIG_IMAGENET_KEY
        (KEY: the path segment of your image-net.org download URL).
        """;

    static string NothingFound(string root, string? flat, string devkit)
    {
        var hints = new List<string>();
        if (flat is not null)
            hints.Add($"found ILSVRC2012_val_*.JPEG files in {flat}, but no devkit with labels at {devkit}");
        else if (Directory.Exists(Path.Combine(root, KaggleValFolder)))
            hints.Add($"found {Path.Combine(root, KaggleValFolder)}, but no {KaggleSolutionCsv} with labels");
        else if (DevkitMeta.Exists(devkit))
            hints.Add($"found the devkit at {devkit}, but no ILSVRC2012_val_*.JPEG files");
        foreach (var archive in new[] { ImageNetDownload.ValArchive.FileName, ImageNetDownload.DevkitArchive.FileName })
            if (File.Exists(Path.Combine(root, archive)))
                hints.Add($"found {archive}: archives must be extracted first (--imagenet-key / PGIG_IMAGENET_KEY runs the download's extract-and-sort steps)");
        string hintText = hints.Count == 0 ? "" : string.Concat(hints.Select(h => $"  note: {h}\n"));
        return $"no labelled images found under {root}\n{hintText}{AcceptedLayouts(root)}";
    }

    static readonly EnumerationOptions AllEntries = new() { AttributesToSkip = 0, RecurseSubdirectories = false, IgnoreInaccessible = false };

    static IEnumerable<string> SubDirectories(string dir) =>
        Directory.EnumerateDirectories(dir, "*", AllEntries).Order(StringComparer.Ordinal);

    static bool IsImage(string path) =>
        ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    static bool HasClassFolders(string dir) =>
        Directory.Exists(dir) && SubDirectories(dir).Any(d => WalkImages(d).Any());

    static bool HasValFiles(string dir) =>
        Directory.Exists(dir) && Directory.EnumerateFiles(dir, "*", AllEntries).Any(f => ValFileNumber(Path.GetFileName(f)) is not null);

    /// <summary>
    /// torchvision's make_dataset: <c>for root, _, fnames in sorted(os.walk(d, followlinks=True)): for f in sorted(fnames)</c>.
    /// </summary>
    static IEnumerable<string> WalkImages(string classDir)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var dirs = new List<string>();
        void Collect(string dir)
        {
            // Following links like os.walk(followlinks=True), but each real folder once so cycles end.
            string real = new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(dir);
            if (!visited.Add(real)) return;
            dirs.Add(dir);
            foreach (var sub in Directory.EnumerateDirectories(dir, "*", AllEntries)) Collect(sub);
        }
        Collect(classDir);
        foreach (var dir in dirs.Order(StringComparer.Ordinal))
            foreach (var f in Directory.EnumerateFiles(dir, "*", AllEntries).Where(IsImage).Order(StringComparer.Ordinal))
                yield return f;
    }

    static ImageSourceInfo Folder(string dir, ImageNetLayout layout)
    {
        var classes = SubDirectories(dir).Select(d => Path.GetFileName(d)!).ToArray();
        var images = new List<LabeledImage>();
        for (int c = 0; c < classes.Length; c++)
            foreach (var f in WalkImages(Path.Combine(dir, classes[c])))
                images.Add(new LabeledImage(f, classes[c], c, Path.GetFileName(f)));
        return new ImageSourceInfo(layout, dir, classes, images);
    }

    static ImageSourceInfo DevkitFlat(string flatDir, string devkitDir)
    {
        var meta = DevkitMeta.Load(devkitDir);
        var labels = meta.ReadGroundTruthWnids(devkitDir);
        var classIndex = meta.SortedWnids.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i, StringComparer.Ordinal);
        var images = new List<LabeledImage>();
        foreach (var f in Directory.EnumerateFiles(flatDir, "*", AllEntries).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(f);
            if (ValFileNumber(name) is not int k) continue;
            if (k < 1 || k > labels.Count)
                throw new DataSourceException($"{f}: the devkit ground truth has {labels.Count} labels, no label for image {k}");
            string wnid = labels[k - 1];
            images.Add(new LabeledImage(f, wnid, classIndex[wnid], name));
        }
        return new ImageSourceInfo(ImageNetLayout.DevkitFlat, flatDir, meta.SortedWnids, Sorted(images));
    }

    static ImageSourceInfo Kaggle(string root)
    {
        string csv = Path.Combine(root, KaggleSolutionCsv);
        string valDir = Path.Combine(root, KaggleValFolder);
        var rows = new List<(string Id, string Wnid)>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(csv))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || (lineNo == 1 && line.StartsWith("ImageId", StringComparison.Ordinal))) continue;
            int comma = line.IndexOf(',');
            string id = comma < 0 ? "" : line[..comma].Trim();
            string wnid = comma < 0 ? "" : line[(comma + 1)..].Trim().Split(' ', 2)[0];
            if (id.Length == 0 || !IsWnid(wnid))
                throw new DataSourceException($"{csv}:{lineNo}: expected 'ImageId,<wnid> x y x y ...', got '{line}'");
            rows.Add((id, wnid));
        }
        if (rows.Count == 0) throw new DataSourceException($"{csv} lists no images");

        string mapping = Path.Combine(root, KaggleSynsetMapping);
        IReadOnlyList<string> classes = File.Exists(mapping)
            ? File.ReadLines(mapping).Where(l => l.Trim().Length > 0).Select(l => l.Trim().Split(' ', 2)[0]).Order(StringComparer.Ordinal).ToArray()
            : rows.Select(r => r.Wnid).Distinct().Order(StringComparer.Ordinal).ToArray();
        var classIndex = classes.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i, StringComparer.Ordinal);

        var images = new List<LabeledImage>(rows.Count);
        var missing = new List<string>();
        foreach (var (id, wnid) in rows)
        {
            if (!classIndex.TryGetValue(wnid, out int c))
                throw new DataSourceException($"{csv}: class {wnid} of {id} is not in {mapping}");
            string path = Path.Combine(valDir, id + ".JPEG");
            if (!File.Exists(path)) { missing.Add(path); continue; }
            images.Add(new LabeledImage(path, wnid, c, Path.GetFileName(path)));
        }
        if (missing.Count > 0)
            throw new DataSourceException($"{missing.Count} of the {rows.Count} images listed in {csv} are missing, e.g. {missing[0]}");
        return new ImageSourceInfo(ImageNetLayout.Kaggle, valDir, classes, Sorted(images));
    }

    static List<LabeledImage> Sorted(List<LabeledImage> images) =>
        images.OrderBy(i => i.ClassIndex).ThenBy(i => i.Path, StringComparer.Ordinal).ToList();
}
