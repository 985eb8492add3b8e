using System.Net;
using System.Text.Json;
using PgIg.Data.Download;
using PgIg.Data.ImageNet;
using PgIg.Pipeline;

namespace PgIg.Tracks;

/// <summary>
/// The original's deprecated key download (spec §8): the devkit and val archives from image-net.org with the
/// user's key in the URL, md5-checked, then extracted and sorted into root/val/&lt;wnid&gt;/ by PrepareVal.
/// </summary>
public static class ImageNetKeyDownload
{
    /// <summary>Written into the data root when the download and sort finished; the Data key then stays the download's.</summary>
    public const string MarkerFile = ".pgig-imagenet-download.json";

    public static bool IsDone(string root) => File.Exists(Path.Combine(root, MarkerFile));

    /// <summary>Downloads <paramref name="files"/> (normally ImageNetDownload.ValFiles(key)) into root and prepares root/val.</summary>
    public static async Task RunAsync(string root, IReadOnlyList<DownloadFile> files, string key, Downloader downloader, Action<string> log, IProgressSink? progress)
    {
        Directory.CreateDirectory(root);
        foreach (var f in files)
        {
            string dest = Path.Combine(root, f.FileName);
            if (File.Exists(dest) && ImageNetDownload.HasMd5(dest, f.Md5)) { log($"  {f.FileName}: already downloaded"); continue; }
            log($"  downloading {Redact(f.Url, key)}");
            try
            {
                await downloader.DownloadAsync(new DownloadSource(f.FileName, [f.Url], null, null, f.Md5), dest,
                    progress is null ? null : new ActionProgress<(long Done, long? Total)>(v => progress.Report($"download {f.FileName} (MB)", v.Done / 1e6, (v.Total ?? Math.Max(v.Done, 1)) / 1e6)));
            }
            catch (DownloadException e)
            {
                var refused = e.Failures.FirstOrDefault(x => x.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound);
                if (refused is not null)
                    throw new DataSourceException(
                        $"image-net.org answered HTTP {(int)refused.StatusCode!.Value} for {Redact(refused.Mirror, key)}: the ImageNet key is wrong or has expired. " +
                        $"Copy a current key from your image-net.org download page ({ImageNetDownload.KeyOption} or {ImageNetDownload.KeyEnvironmentVariable}); " +
                        "image-net.org has deprecated key downloads, so the reliable fix is to download the validation set yourself and point data.path at it.\n" +
                        ImageNetSource.AcceptedLayouts(root));
                throw new DataSourceException(Redact(e.Message, key), e);
            }
        }
        log($"  preparing {root}");
        int sorted = ImageNetDownload.PrepareVal(root, new ActionProgress<string>(m => log("  " + m)));
        File.WriteAllText(Path.Combine(root, MarkerFile), JsonSerializer.Serialize(new
        {
            archives = files.Select(f => new { file = f.FileName, md5 = f.Md5 }).ToArray(), images_sorted = sorted, finished_utc = DateTime.UtcNow,
        }));
    }

    /// <summary>The key is a credential: messages and logs show the URL without it.</summary>
    public static string Redact(string text, string key) => key.Length == 0 ? text : text.Replace(key, "<key>", StringComparison.Ordinal);
}

/// <summary>Reports synchronously on the caller's thread (Progress&lt;T&gt; posts to the thread pool, reordering log lines).</summary>
public sealed class ActionProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
