using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace PgIg.Data.Download;

/// <summary>Fetches a file from a list of mirrors into "&lt;dest&gt;.part", resuming with HTTP Range requests, verifying
/// size and hashes, and renaming into place only when everything checks out.</summary>
public sealed class Downloader(HttpClient http)
{
    /// <summary>Resume attempts on one mirror after a connection breaks off; the count restarts whenever the .part grows
    /// past its longest length so far, so a slow but moving transfer is not abandoned (and one that restarts from
    /// byte 0 each time is).</summary>
    public int MaxResumeRetries { get; init; } = 3;

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A body read that delivers nothing for this long counts as a broken connection.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Minimum time between progress reports; the final one is always sent.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    public async Task<DownloadResult> DownloadAsync(
        DownloadSource src,
        string destinationPath,
        IProgress<(long done, long? total)>? progress = null,
        CancellationToken ct = default)
    {
        if (src.Mirrors.Count == 0) throw new ArgumentException($"download source '{src.Name}' has no mirrors", nameof(src));
        string dest = Path.GetFullPath(destinationPath);
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
        string part = dest + ".part";

        var failures = new List<MirrorFailure>();
        foreach (string mirror in src.Mirrors)
        {
            (DownloadResult? result, MirrorFailure? failure) = await TryMirrorAsync(src, mirror, part, dest, progress, ct);
            if (result is not null) return result;
            failures.Add(failure!);
        }
        throw new DownloadException(src.Name, failures);
    }

    public static string Md5OfFile(string path)
    {
        using FileStream fs = OpenForHashing(path);
        return Convert.ToHexStringLower(MD5.HashData(fs));
    }

    async Task<(DownloadResult?, MirrorFailure?)> TryMirrorAsync(
        DownloadSource src, string mirror, string part, string dest, IProgress<(long, long?)>? progress, CancellationToken ct)
    {
        // A .part left by an earlier run or another mirror could itself be the damaged piece.
        long longestPart = PartLength(part);
        bool partFromElsewhere = longestPart > 0;
        bool restartedClean = false;
        int retriesLeft = MaxResumeRetries;
        long transferred = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            Fetch fetch = src.Size is long size && PartLength(part) == size
                ? Fetch.Complete(0) // already whole: verify instead of asking the server
                : await FetchOnceAsync(src, mirror, part, progress, ct);
            transferred += fetch.Bytes;
            switch (fetch.Kind)
            {
                case FetchKind.Failed:
                    return (null, new MirrorFailure(mirror, fetch.Reason!, fetch.Status));

                case FetchKind.Restart:
                    DeleteIfExists(part);
                    if (restartedClean) return (null, new MirrorFailure(mirror, fetch.Reason!));
                    restartedClean = true;
                    continue;

                case FetchKind.Broken:
                    long now = PartLength(part);
                    if (now > longestPart)
                    {
                        longestPart = now;
                        retriesLeft = MaxResumeRetries;
                    }
                    if (retriesLeft-- > 0)
                    {
                        if (RetryDelay > TimeSpan.Zero) await Task.Delay(RetryDelay, ct);
                        continue;
                    }
                    return (null, new MirrorFailure(mirror, $"{fetch.Reason} (gave up after {MaxResumeRetries} resume attempts)"));

                case FetchKind.Complete:
                    Verification v = Verify(src, part);
                    if (v.Reason is null)
                    {
                        Commit(part, dest);
                        return (new DownloadResult(dest, mirror, v.Length, v.Sha256, v.Md5,
                            Sha256Verified: src.Sha256 is not null, Md5Verified: src.Md5 is not null, transferred), null);
                    }
                    DeleteIfExists(part);
                    if (partFromElsewhere && !restartedClean)
                    {
                        restartedClean = true;
                        continue;
                    }
                    return (null, new MirrorFailure(mirror, v.Reason));
            }
        }
    }

    async Task<Fetch> FetchOnceAsync(
        DownloadSource src, string mirror, string part, IProgress<(long, long?)>? progress, CancellationToken ct)
    {
        long have = PartLength(part);
        if (src.Size is long expectedSize && have > expectedSize)
        {
            DeleteIfExists(part);
            have = 0;
        }

        HttpRequestMessage request;
        try
        {
            request = new HttpRequestMessage(HttpMethod.Get, mirror);
        }
        catch (UriFormatException e)
        {
            return Fetch.Failed($"invalid URL ({e.Message})");
        }
        using (request)
        {
            if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            }
            catch (HttpRequestException e)
            {
                return Fetch.Failed($"network error: {e.Message}");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return Fetch.Failed($"no response within {http.Timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s");
            }
            catch (Exception e) when (e is NotSupportedException or InvalidOperationException)
            {
                return Fetch.Failed($"unusable URL ({e.Message})");
            }
            using (response)
                return await ReceiveAsync(src, response, part, have, progress, ct);
        }
    }

    async Task<Fetch> ReceiveAsync(
        DownloadSource src, HttpResponseMessage response, string part, long have, IProgress<(long, long?)>? progress, CancellationToken ct)
    {
        long? serverTotal;
        bool append;
        switch (response.StatusCode)
        {
            case HttpStatusCode.RequestedRangeNotSatisfiable when have > 0:
                long? fullLength = response.Content.Headers.ContentRange?.Length;
                // The usual answer for "bytes=N-" when N is the file size: the .part is already whole.
                if (fullLength is null || fullLength == have) return Fetch.Complete(0);
                return Fetch.Restart($"server cannot resume at byte {have} of a {fullLength}-byte file");

            case HttpStatusCode.PartialContent when have > 0:
                ContentRangeHeaderValue? range = response.Content.Headers.ContentRange;
                if (range?.From != have)
                    return Fetch.Restart($"server answered a request for bytes {have}- with a range starting at {range?.From?.ToString(CultureInfo.InvariantCulture) ?? "?"}");
                serverTotal = range.Length;
                append = true;
                break;

            case HttpStatusCode.OK:
                // Also the answer of a server that ignores Range: start over from byte 0.
                serverTotal = response.Content.Headers.ContentLength;
                append = false;
                have = 0;
                break;

            default:
                string phrase = string.IsNullOrWhiteSpace(response.ReasonPhrase) ? "" : " " + response.ReasonPhrase;
                return Fetch.Failed($"HTTP {(int)response.StatusCode}{phrase}", response.StatusCode);
        }

        if (src.Size is long expected && serverTotal is long reported && reported != expected)
            return Fetch.Failed($"size mismatch: expected {expected} bytes, server reports {reported}");
        long? displayTotal = serverTotal ?? src.Size;

        await using var file = new FileStream(part, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var buffer = new byte[1 << 16];
        long fetched = 0;
        var sinceReport = Stopwatch.StartNew();
        progress?.Report((have, displayTotal));

        Stream body;
        try
        {
            body = await response.Content.ReadAsStreamAsync(ct);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return Fetch.Broken(0, $"{ClosedAfter(have, serverTotal)} ({e.Message})");
        }
        await using (body)
        {
            while (true)
            {
                int n;
                try
                {
                    stall.CancelAfter(StallTimeout);
                    n = await body.ReadAsync(buffer, stall.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    return Fetch.Broken(fetched,
                        $"no data for {StallTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s after {have} bytes");
                }
                catch (Exception e) when (e is IOException or HttpRequestException)
                {
                    return Fetch.Broken(fetched, ClosedAfter(have, serverTotal));
                }
                if (n == 0) break;
                await file.WriteAsync(buffer.AsMemory(0, n), ct);
                have += n;
                fetched += n;
                if (sinceReport.Elapsed >= ProgressInterval)
                {
                    progress?.Report((have, displayTotal));
                    sinceReport.Restart();
                }
            }
        }
        progress?.Report((have, displayTotal));
        if (serverTotal is long total && have < total) return Fetch.Broken(fetched, ClosedAfter(have, total));
        file.Flush(flushToDisk: true);
        return Fetch.Complete(fetched);
    }

    static string ClosedAfter(long have, long? total) =>
        total is long t ? $"connection closed after {have} of {t} bytes" : $"connection closed after {have} bytes";

    static Verification Verify(DownloadSource src, string part)
    {
        long length = PartLength(part);
        if (src.Size is long size && length != size)
            return new Verification($"size mismatch: expected {size} bytes, got {length}", length, "", null);

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using IncrementalHash? md5 = src.Md5 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using (FileStream fs = OpenForHashing(part))
        {
            var buffer = new byte[1 << 20];
            int n;
            while ((n = fs.Read(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                md5?.AppendData(buffer, 0, n);
            }
        }
        string sha256 = Convert.ToHexStringLower(sha.GetHashAndReset());
        string? md5Hex = md5 is null ? null : Convert.ToHexStringLower(md5.GetHashAndReset());

        if (src.Sha256 is string wantSha && !HashEquals(wantSha, sha256))
            return new Verification($"sha256 mismatch: expected {wantSha.Trim().ToLowerInvariant()}, got {sha256}", length, sha256, md5Hex);
        if (src.Md5 is string wantMd5 && !HashEquals(wantMd5, md5Hex!))
            return new Verification($"md5 mismatch: expected {wantMd5.Trim().ToLowerInvariant()}, got {md5Hex}", length, sha256, md5Hex);
        return new Verification(null, length, sha256, md5Hex);
    }

    static bool HashEquals(string expected, string actual) =>
        string.Equals(expected.Trim(), actual, StringComparison.OrdinalIgnoreCase);

    /// <summary>fsync before the rename so a crash cannot leave a complete-looking but empty destination.</summary>
    static void Commit(string part, string dest)
    {
        using (var fs = new FileStream(part, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            fs.Flush(flushToDisk: true);
        File.Move(part, dest, overwrite: true);
    }

    static FileStream OpenForHashing(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    static long PartLength(string part) => File.Exists(part) ? new FileInfo(part).Length : 0;

    static void DeleteIfExists(string path)
    {
        if (File.Exists(path)) File.Delete(path);
    }

    sealed record Verification(string? Reason, long Length, string Sha256, string? Md5);

    enum FetchKind { Complete, Broken, Restart, Failed }

    /// <param name="Bytes">Bytes received over the network by this attempt.</param>
    sealed record Fetch(FetchKind Kind, long Bytes, string? Reason, HttpStatusCode? Status)
    {
        public static Fetch Complete(long bytes) => new(FetchKind.Complete, bytes, null, null);

        public static Fetch Broken(long bytes, string reason) => new(FetchKind.Broken, bytes, reason, null);

        public static Fetch Restart(string reason) => new(FetchKind.Restart, 0, reason, null);

        public static Fetch Failed(string reason, HttpStatusCode? status = null) => new(FetchKind.Failed, 0, reason, status);
    }
}
