using PgIg.Data.Download;

namespace PgIg.Data.ImageNet;

/// <summary>One file to fetch: where from, the name to save it under (in the data root), its md5.</summary>
public sealed record DownloadFile(string Url, string FileName, string Md5);

/// <summary>
/// The download plan of torchvision 0.4's <c>ImageNet(root, split='val', download=True)</c> with the original's
/// key substitution (PGIG-SPEC §8), and the steps after the download. HTTP itself is the Downloader's job.
/// </summary>
/// <remarks>
/// image-net.org has marked this key-based download deprecated (since 2021); the URLs may no longer answer.
/// </remarks>
public static class ImageNetDownload
{
    public const string KeyOption = "--imagenet-key";
    public const string KeyEnvironmentVariable = "PGIG_IMAGENET_KEY";

    /// <summary>torchvision's URLs with its placeholder <c>nnoupb</c> replaced by <c>{0}</c>, the key.</summary>
    public const string BaseUrlFormat = "http://www.image-net.org/challenges/LSVRC/2012/{0}/";

    public static readonly (string FileName, string Md5) DevkitArchive = ("ILSVRC2012_devkit_t12.tar.gz", "fa75699e90414af021442c21a62c3abf");
    public static readonly (string FileName, string Md5) ValArchive = ("ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622");
    /// <summary>Listed for completeness; split='val' never fetches it.</summary>
    public static readonly (string FileName, string Md5) TrainArchive = ("ILSVRC2012_img_train.tar", "1d675b47d978889d74fa0da5fadfb00e");

    /// <summary>The key from the command-line option if given, else from PGIG_IMAGENET_KEY; null if neither is set.</summary>
    public static string? ResolveKey(string? optionValue)
    {
        var key = string.IsNullOrWhiteSpace(optionValue) ? Environment.GetEnvironmentVariable(KeyEnvironmentVariable) : optionValue;
        return string.IsNullOrWhiteSpace(key) ? null : key.Trim();
    }

    public static string BaseUrl(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        // The key is one URL path segment; anything else would silently build a different URL.
        if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~') || key is "." or "..")
            throw new ArgumentException($"the ImageNet key must be one URL path segment (letters, digits, - _ . ~), got '{key}'", nameof(key));
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, BaseUrlFormat, key);
    }

    /// <summary>What split='val' downloads, in torchvision's order: the devkit, then the val images (6.3 GB).</summary>
    public static IReadOnlyList<DownloadFile> ValFiles(string key)
    {
        string baseUrl = BaseUrl(key);
        return [.. new[] { DevkitArchive, ValArchive }.Select(a => new DownloadFile(baseUrl + a.FileName, a.FileName, a.Md5))];
    }

    public static bool HasMd5(string path, string md5) =>
        File.Exists(path) && string.Equals(Downloader.Md5OfFile(path), md5, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The steps after both archives are in <paramref name="root"/>: extract the devkit to
    /// <c>root/ILSVRC2012_devkit_t12</c>, extract the val tar to <c>root/ILSVRC2012_img_val</c>, and sort the
    /// images into <c>root/val/&lt;wnid&gt;/</c> (the layout <see cref="ImageNetSource"/> then reads). Steps
    /// already done are skipped; root/val only appears once the sort is complete.
    /// </summary>
    /// <returns>The number of images sorted (0 when root/val already existed).</returns>
    public static int PrepareVal(string root, IProgress<string>? log = null)
    {
        string devkitDir = Path.Combine(root, ImageNetSource.DevkitFolder);
        if (!DevkitMeta.Exists(devkitDir))
        {
            string tar = RequireArchive(root, DevkitArchive.FileName);
            log?.Report($"extracting {tar}");
            SafeTarExtractor.Extract(tar, root);
            if (!DevkitMeta.Exists(devkitDir))
                throw new DataSourceException($"{tar} did not contain {ImageNetSource.DevkitFolder}/{DevkitMeta.MetaRelativePath} and the ground truth");
        }

        string valDir = Path.Combine(root, "val");
        if (Directory.Exists(valDir)) return 0; // torchvision also skips when the split folder exists

        string flatDir = Path.Combine(root, ImageNetSource.FlatValFolder);
        if (!Directory.Exists(flatDir))
        {
            string tar = RequireArchive(root, ValArchive.FileName);
            log?.Report($"extracting {tar}");
            // Extract under a temporary name so an interrupted run is redone instead of sorting a partial set.
            string extracting = flatDir + ".partial";
            if (Directory.Exists(extracting)) Directory.Delete(extracting, recursive: true);
            SafeTarExtractor.Extract(tar, extracting);
            Directory.Move(extracting, flatDir);
        }

        string staging = valDir + ".partial";
        if (Directory.Exists(staging)) // an interrupted sort: put its files back first
            foreach (var f in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories))
                File.Move(f, Path.Combine(flatDir, Path.GetFileName(f)), overwrite: true);
        log?.Report($"sorting images into {valDir}");
        int moved = SortValIntoWnidFolders(flatDir, devkitDir, staging);
        Directory.Move(staging, valDir);
        if (!Directory.EnumerateFileSystemEntries(flatDir).Any()) Directory.Delete(flatDir);
        return moved;
    }

    static string RequireArchive(string root, string fileName)
    {
        string path = Path.Combine(root, fileName);
        return File.Exists(path) ? path : throw new DataSourceException($"{path} is missing; download it first");
    }

    /// <summary>
    /// torchvision's val sort: moves the ILSVRC2012_val_*.JPEG files of <paramref name="flatDir"/>, in name order,
    /// into <c>destValDir/&lt;wnid&gt;/</c> by the devkit ground truth.
    /// </summary>
    /// <remarks>
    /// torchvision zips the sorted names with the 50000 labels; here file ILSVRC2012_val_{k:D8} takes label k,
    /// which is the same for the full set and stays right when files are missing.
    /// </remarks>
    public static int SortValIntoWnidFolders(string flatDir, string devkitDir, string destValDir)
    {
        var meta = DevkitMeta.Load(devkitDir);
        var labels = meta.ReadGroundTruthWnids(devkitDir);
        var files = Directory.EnumerateFiles(flatDir)
            .Select(f => (Path: f, Number: ImageNetSource.ValFileNumber(Path.GetFileName(f))))
            .Where(f => f.Number is not null)
            .OrderBy(f => Path.GetFileName(f.Path), StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new DataSourceException($"no ILSVRC2012_val_*.JPEG files in {flatDir}");
        var bad = files.FirstOrDefault(f => f.Number < 1 || f.Number > labels.Count);
        if (bad.Path is not null)
            throw new DataSourceException($"{bad.Path}: the ground truth has {labels.Count} labels, none for image {bad.Number}");

        Directory.CreateDirectory(destValDir);
        foreach (var (path, number) in files)
        {
            string wnidDir = Path.Combine(destValDir, labels[number!.Value - 1]);
            Directory.CreateDirectory(wnidDir);
            File.Move(path, Path.Combine(wnidDir, Path.GetFileName(path)), overwrite: true);
        }
        return files.Count;
    }
}
