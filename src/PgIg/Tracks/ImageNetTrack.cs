using PgIg.Config;
using PgIg.Data.Download;
using PgIg.Data.ImageNet;
using PgIg.Pipeline;

namespace PgIg.Tracks;

/// <summary>
/// The paper's experiment: ILSVRC2012 validation images in any layout <see cref="ImageNetSource"/> reads
/// (torchvision, flat + devkit, Kaggle, WNID folders), or downloaded with the original's key (spec §8).
/// Image ids are the numbers of the ILSVRC2012_val_NNNNNNNN files, so they agree across layouts.
/// </summary>
public sealed class ImageNetTrack : VggImageTrack
{
    public const string DefaultDataPath = "data/imagenet";

    readonly string _root;
    readonly ListingData? _listing;

    public ImageNetTrack(PipelineConfig c) : base(c)
    {
        _root = Path.GetFullPath(c.Data.Path ?? DefaultDataPath);
        string? key = ImageNetDownload.ResolveKey(c.Data.ImageNetKey);
        object source;
        // A folder the key download produced keeps the download's key, so the run that downloads and the next agree.
        if (ImageNetKeyDownload.IsDone(_root)) source = DownloadSource();
        else
        {
            try
            {
                _listing = List(ImageNetSource.Describe(_root), valNumberIds: true);
                source = new { kind = "folder", layout = _listing.Layout, images = _listing.Images.Count, classes = _listing.Classes.Count, listing_sha256 = _listing.Fingerprint() };
            }
            catch (DataSourceException)
            {
                source = key is not null && c.Data.Download ? DownloadSource() : new { kind = "absent" };
            }
        }
        DataConfig = new { track = "imagenet", root = _root, source };
    }

    static object DownloadSource() => new
    {
        kind = "imagenet-key-download",
        archives = new[] { ImageNetDownload.DevkitArchive, ImageNetDownload.ValArchive }.Select(a => new { file = a.FileName, md5 = a.Md5 }).ToArray(),
    };

    public override string DataCodeVersion => "data-imagenet-v1";
    public override object DataConfig { get; }
    public override string DatasetLabel => "ImageNet val";

    public override async Task<DataSnapshot> LocateAsync(StageContext ctx)
    {
        var listing = _listing;
        if (listing is null && !ImageNetKeyDownload.IsDone(_root))
        {
            string? key = ImageNetDownload.ResolveKey(C.Data.ImageNetKey);
            try
            {
                listing = List(ImageNetSource.Describe(_root), valNumberIds: true); // appeared since planning
            }
            catch (DataSourceException) when (key is not null)
            {
                if (!C.Data.Download)
                    throw new DataSourceException($"{_root} holds no ImageNet validation set and data.download is false; set data.download: true to use the ImageNet key, or point data.path at a downloaded copy.\n{ImageNetSource.AcceptedLayouts(_root)}");
                ctx.Log($"  no validation set under {_root}; downloading it with the ImageNet key");
                await ImageNetKeyDownload.RunAsync(_root, ImageNetDownload.ValFiles(key), key, new Downloader(ctx.Http), ctx.Log, ctx.Progress);
            }
        }
        listing ??= List(ImageNetSource.Describe(_root), valNumberIds: true);
        return Snapshot(listing);
    }
}
