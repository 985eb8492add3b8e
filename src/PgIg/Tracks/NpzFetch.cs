using System.Text.Json;
using PgIg.Data.Download;
using PgIg.Formats;
using PgIg.Pipeline;

namespace PgIg.Tracks;

/// <summary>A fetch that cannot succeed as configured; the message names the config field to fix.</summary>
public sealed class FetchException(string message, Exception? inner = null) : Exception(message, inner), IInputProblem;

/// <summary>
/// Where one of the original's npz files comes from: a local file (<see cref="LocalPath"/>), or the first mirror
/// that delivers a usable file. <see cref="Sha256"/> pins the content when set.
/// </summary>
/// <param name="Read">Parses the file into tensors (throws <see cref="NpzFormatException"/> for a file of another kind).</param>
public sealed record NpzSource(string Role, string FileName, string? LocalPath, IReadOnlyList<string> Mirrors, string? Sha256,
    string PathField, string ShaField, string MirrorsField, Func<string, IEnumerable<TensorRow>> Read)
{
    /// <summary>Spec §2.3: the pgig README's S3 modelzoo copy first, then nn-patterns' original Dropbox links.</summary>
    public static readonly IReadOnlyList<string> DefaultWeightMirrors =
    [
        "https://s3.cn-north-1.amazonaws.com.cn/modelzoo/imagenet_224_vgg_16.npz",
        "https://www.dropbox.com/s/cvjj8x19hzya9oe/imagenet_224_vgg_16.npz?dl=1",
    ];

    public static readonly IReadOnlyList<string> DefaultPatternMirrors =
    [
        "https://s3.cn-north-1.amazonaws.com.cn/modelzoo/imagenet_224_vgg_16.patterns.A_only.npz",
        "https://www.dropbox.com/s/v7e0px44jqwef5k/imagenet_224_vgg_16.patterns.A_only.npz?dl=1",
    ];

    public bool IsLocal => LocalPath is not null;
    public string? PinnedSha256 => string.IsNullOrWhiteSpace(Sha256) ? null : Sha256.Trim().ToLowerInvariant();
}

/// <summary>A resolved npz: the file on disk, its SHA-256, and where it came from (a path or the mirror URL).</summary>
public sealed record FetchedFile(string Path, string Sha256, string Origin, bool Downloaded);

/// <summary>
/// Resolves an <see cref="NpzSource"/> to a verified local file. Downloads go to &lt;cache&gt;/downloads with
/// resume (Downloader), mirror by mirror; a file that downloads completely but does not parse as the expected npz
/// counts as that mirror's failure (iNNvestigate #32: the Dropbox copy was once corrupted), and the next mirror is tried.
/// </summary>
public static class NpzFetch
{
    sealed record SourceNote(string Mirror, string Sha256);

    public static async Task<(FetchedFile File, T Parsed)> ResolveAsync<T>(NpzSource src, string downloadDir, Downloader downloader,
        Func<string, T> parse, Action<string> log, IProgressSink? progress, FileHashMemo memo)
    {
        if (src.IsLocal)
        {
            string path = Path.GetFullPath(src.LocalPath!);
            if (!File.Exists(path))
                throw new FetchException($"{src.PathField}: file not found: {path}. Fix the path, or remove {src.PathField} to download the file from {src.MirrorsField}.");
            string sha = memo.Sha256(path);
            if (src.PinnedSha256 is { } pin && pin != sha)
                throw new FetchException($"{src.PathField}: {path} has sha256 {sha}, but {src.ShaField} pins {pin}. Use the right file or correct {src.ShaField}.");
            T parsed;
            try { parsed = parse(path); }
            catch (NpzFormatException e) { throw new FetchException($"{src.PathField}: {e.Message}", e); }
            if (src.PinnedSha256 is null) log($"  {src.Role}: {path} (sha256 {sha}; pin it in the config: {src.ShaField}: {sha})");
            return (new FetchedFile(path, sha, path, Downloaded: false), parsed);
        }

        if (src.Mirrors.Count == 0) throw new FetchException($"{src.MirrorsField} is empty: set {src.PathField} to a local file or list at least one URL");
        string dest = Path.Combine(downloadDir, src.FileName);
        string note = dest + ".source.json";
        if (TryReuse(src, dest, note, memo, parse, log) is { } reused) return reused;

        var failures = new List<MirrorFailure>();
        foreach (var mirror in src.Mirrors)
        {
            log($"  {src.Role}: downloading {mirror}");
            DownloadResult r;
            try
            {
                r = await downloader.DownloadAsync(new DownloadSource(src.FileName, [mirror], null, src.PinnedSha256, null), dest,
                    progress is null ? null : new ActionProgress<(long Done, long? Total)>(v => progress.Report($"download {src.FileName} (MB)", v.Done / 1e6, (v.Total ?? Math.Max(v.Done, 1)) / 1e6)));
            }
            catch (DownloadException e) { failures.AddRange(e.Failures); continue; }
            T parsed;
            try { parsed = parse(dest); }
            catch (NpzFormatException e)
            {
                File.Delete(dest);
                failures.Add(new MirrorFailure(mirror, $"downloaded {r.Size} bytes, but the file is unusable: {e.Message}"));
                continue;
            }
            File.WriteAllText(note, JsonSerializer.Serialize(new SourceNote(mirror, r.Sha256)));
            if (src.PinnedSha256 is null)
                log($"  {src.Role}: sha256 {r.Sha256} ({r.Size} bytes); pin it in the config: {src.ShaField}: {r.Sha256}");
            return (new FetchedFile(dest, r.Sha256, mirror, Downloaded: true), parsed);
        }
        throw new FetchException(
            $"{new DownloadException(src.FileName, failures).Message}\nFix: download {src.FileName} yourself and set {src.PathField}: <path>, or list working URLs in {src.MirrorsField}.");
    }

    /// <summary>A download from an earlier run is reused when it matches the pin, or, unpinned, came from a configured mirror.</summary>
    static (FetchedFile, T)? TryReuse<T>(NpzSource src, string dest, string note, FileHashMemo memo, Func<string, T> parse, Action<string> log)
    {
        if (!File.Exists(dest)) return null;
        string sha = memo.Sha256(dest);
        SourceNote? from = null;
        try { from = File.Exists(note) ? JsonSerializer.Deserialize<SourceNote>(File.ReadAllText(note)) : null; }
        catch (JsonException) { }
        bool usable = src.PinnedSha256 is { } pin ? pin == sha : from is not null && from.Sha256 == sha && src.Mirrors.Contains(from.Mirror);
        if (usable)
        {
            try
            {
                var parsed = parse(dest);
                log($"  {src.Role}: using the earlier download {dest}");
                return (new FetchedFile(dest, sha, from?.Mirror ?? dest, Downloaded: true), parsed);
            }
            catch (NpzFormatException e) { log($"  {src.Role}: earlier download is unusable ({e.Message}); downloading again"); }
        }
        File.Delete(dest);
        File.Delete(note);
        return null;
    }
}
