using PgIg.Data.Download;
using PgIg.Pipeline;

namespace PgIg.Data.FashionMnist;

/// <summary>One of the four Fashion-MNIST files, with the SHA-256 and length of its decompressed content.</summary>
public sealed record FashionFile(string Name, string ContentSha256, long ContentBytes);

/// <summary>
/// Finds the Fashion-MNIST IDX files: the configured directory, then Debian's dataset-fashion-mnist
/// install location, then a download from the official mirror into the cache. Files are accepted
/// gzipped or raw and verified by the hash of their decompressed content (Debian recompresses them).
/// </summary>
public static class FashionMnistSource
{
    public const string DebianDir = "/usr/share/datasets/fashion-mnist";
    public const string OfficialMirror = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

    public static readonly IReadOnlyList<FashionFile> Files = new FashionFile[]
    {
        new("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016),
        new("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008),
        new("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016),
        new("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008),
    };

    /// <summary>Path of a file (gz preferred) in a directory, or null.</summary>
    public static string? Find(string dir, FashionFile f) =>
        new[] { f.Name + ".gz", f.Name }.Select(n => Path.Combine(dir, n)).FirstOrDefault(File.Exists);

    /// <summary>Resolves every file, downloading what is missing. Returns name → local path.</summary>
    public static async Task<Dictionary<string, string>> LocateAsync(string? configuredDir, bool allowDownload,
        IReadOnlyList<string> mirrors, string downloadDir, HttpClient http, Action<string> log, CancellationToken ct = default)
    {
        var dirs = new List<string>();
        if (configuredDir is not null && !Directory.Exists(configuredDir))
            throw new DirectoryNotFoundException($"data.path {Path.GetFullPath(configuredDir)} does not exist. Point data.path at a directory with the four Fashion-MNIST IDX files (gz or raw), or remove it to use Debian's dataset-fashion-mnist or the download.");
        if (configuredDir is not null)
        {
            // a configured folder is what the user means to evaluate: never replace it silently by another copy
            var problems = new List<string>();
            foreach (var f in Files)
            {
                var p = Find(configuredDir, f);
                if (p is null) { problems.Add($"{f.Name}(.gz) is missing"); continue; }
                var (sha, bytes) = ContentHash(p);
                if (sha == Corrupt) problems.Add($"{Path.GetFileName(p)} is not a readable gzip file");
                else if (sha != f.ContentSha256) problems.Add($"{Path.GetFileName(p)} is not Fashion-MNIST's {f.Name} ({bytes} bytes, expected {f.ContentBytes})");
            }
            if (problems.Count > 0)
                throw new FileNotFoundException($"data.path {Path.GetFullPath(configuredDir)} does not hold the Fashion-MNIST IDX files: {string.Join("; ", problems)}. " +
                    "Put the four files there (gz or raw), or remove data.path to use Debian's dataset-fashion-mnist or the download.");
            dirs.Add(configuredDir);
        }
        dirs.Add(DebianDir);
        dirs.Add(downloadDir);
        return await LocateAsync(dirs, allowDownload, mirrors, downloadDir, http, log, ct);
    }

    /// <summary>Resolves every file from the first of <paramref name="searchDirs"/> that has it with the right content, else downloads it.</summary>
    public static async Task<Dictionary<string, string>> LocateAsync(IReadOnlyList<string> searchDirs, bool allowDownload,
        IReadOnlyList<string> mirrors, string downloadDir, HttpClient http, Action<string> log, CancellationToken ct = default)
    {
        var dirs = searchDirs;
        var result = new Dictionary<string, string>();
        foreach (var f in Files)
        {
            string? found = null;
            foreach (var d in dirs)
            {
                var p = Find(d, f);
                if (p is null) continue;
                var (sha, bytes) = ContentHash(p);
                if (sha == f.ContentSha256) { found = p; break; }
                if (sha == Corrupt) { log($"{p}: damaged compressed data (not a readable gzip file); skipping it"); continue; }
                log($"{p}: content does not match Fashion-MNIST's {f.Name} ({bytes} bytes, sha256 {sha[..12]}…, expected {f.ContentBytes} bytes, {f.ContentSha256[..12]}…); skipping it");
            }
            if (found is null)
            {
                if (!allowDownload)
                    throw new FileNotFoundException($"Fashion-MNIST file {f.Name} not found in {string.Join(", ", dirs)} and data.download is false. " +
                        "Install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist), set data.path, or allow the download.");
                found = await DownloadAsync(f, mirrors.Count > 0 ? mirrors : [OfficialMirror], downloadDir, http, log, ct);
            }
            result[f.Name] = found;
        }
        return result;
    }

    static async Task<string> DownloadAsync(FashionFile f, IReadOnlyList<string> mirrors, string downloadDir, HttpClient http, Action<string> log, CancellationToken ct)
    {
        Directory.CreateDirectory(downloadDir);
        var dest = Path.Combine(downloadDir, f.Name + ".gz");
        log($"downloading {f.Name}.gz from {string.Join(", ", mirrors)}");
        var source = new DownloadSource(f.Name + ".gz", mirrors.Select(m => m.TrimEnd('/') + "/" + f.Name + ".gz").ToList(), null, null, null);
        await new Downloader(http).DownloadAsync(source, dest, null, ct);
        var (sha, bytes) = ContentHash(dest);
        if (sha != f.ContentSha256)
        {
            File.Delete(dest);
            throw new InvalidDataException($"downloaded {f.Name}.gz does not contain Fashion-MNIST's {f.Name} ({bytes} bytes, sha256 {sha}); expected {f.ContentSha256}. Check data.mirrors.");
        }
        return dest;
    }

    /// <summary>Content hash of a (possibly gzipped) file, memoised by path, size and mtime.</summary>
    public static (string Sha256, long Bytes) ContentHash(string path)
    {
        var fi = new FileInfo(path);
        var memo = $"{fi.FullName}|{fi.Length}|{fi.LastWriteTimeUtc.Ticks}";
        lock (Memo) if (Memo.TryGetValue(memo, out var hit)) return hit;
        try
        {
            using var s = Hashing.OpenMaybeGzip(path);
            using var counting = new CountingStream(s);
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(counting));
            var r = (sha, counting.Count);
            lock (Memo) Memo[memo] = r;
            return r;
        }
        catch (InvalidDataException) { return (Corrupt, 0); }
    }

    static readonly Dictionary<string, (string, long)> Memo = new();

    /// <summary><see cref="ContentHash"/>'s value for a file whose gzip stream cannot be read.</summary>
    public const string Corrupt = "corrupt";

    sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }
        public override int Read(byte[] buffer, int offset, int count) { int r = inner.Read(buffer, offset, count); Count += r; return r; }
        public override bool CanRead => true; public override bool CanSeek => false; public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
