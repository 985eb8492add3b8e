using PgIg.Config;
using PgIg.Data.ImageNet;
using PgIg.Pipeline;

namespace PgIg.Tracks;

/// <summary>
/// Any <c>root/&lt;class&gt;/&lt;images&gt;</c> folder, images of any size, through the ImageNet VGG16 and the same
/// preprocessing. Labels are the rank of the class folder (ordinal order, as torchvision's ImageFolder) and only
/// stratify the evaluation subset; ids are positions in the listing (class, then path).
/// </summary>
public sealed class ImageFolderTrack : VggImageTrack
{
    readonly string _root;
    readonly ListingData? _listing;

    public ImageFolderTrack(PipelineConfig c) : base(c)
    {
        if (string.IsNullOrWhiteSpace(c.Data.Path))
            throw new ConfigException($"{c.SourceFile}: track image-folder needs data.path: the folder that holds one sub-folder of images per class");
        _root = Path.GetFullPath(c.Data.Path);
        object source;
        try
        {
            _listing = Read(_root);
            source = new { kind = "folder", images = _listing.Images.Count, classes = _listing.Classes.Count, listing_sha256 = _listing.Fingerprint() };
        }
        catch (DataSourceException) { source = new { kind = "absent" }; } // ComputeData reports it
        DataConfig = new { track = "image-folder", root = _root, source };
    }

    public override string DataCodeVersion => "data-image-folder-v1";
    public override object DataConfig { get; }
    public override string DatasetLabel => $"image folder {Path.GetFileName(_root)}";

    static ListingData Read(string root)
    {
        if (!Directory.Exists(root))
            throw new DataSourceException($"data.path {root} does not exist; the image-folder track reads {Layout}");
        ImageSourceInfo info;
        try { info = ImageNetSource.Describe(root); }
        catch (DataSourceException) { throw new DataSourceException($"no images found under {root}; the image-folder track reads {Layout}"); }
        if (info.Layout is not (ImageNetLayout.ImageFolder or ImageNetLayout.Torchvision) || !string.Equals(Path.GetFullPath(info.ImageRoot), root, StringComparison.Ordinal))
            throw new DataSourceException($"{root} looks like an ImageNet download ({info.Layout} layout under {info.ImageRoot}); use track: imagenet for it, or point data.path at a folder laid out as {Layout}");
        return List(info, valNumberIds: false);
    }

    static string Layout => $"<class>/<images> (extensions {string.Join(", ", ImageNetSource.ImageExtensions.Select(e => e[1..]))}, any case, any image size)";

    public override Task<DataSnapshot> LocateAsync(StageContext ctx) => Task.FromResult(Snapshot(_listing ?? Read(_root)));
}
