using System.Net;
using System.Security.Cryptography;
using PgIg.Data.Download;
using PgIg.Tests.TestSupport;
using Xunit;

namespace PgIg.Tests.Download;

public sealed class DownloaderTests : IDisposable
{
    readonly LocalHttpServer _server = new();
    readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-dl-").FullName;
    readonly Downloader _downloader;
    readonly byte[] _content = RandomBytes(200_000, seed: 1);
    readonly string _sha256;
    readonly string _md5;

    public DownloaderTests()
    {
        _downloader = new Downloader(_http) { RetryDelay = TimeSpan.Zero, StallTimeout = TimeSpan.FromSeconds(5) };
        _sha256 = Convert.ToHexStringLower(SHA256.HashData(_content));
        _md5 = Convert.ToHexStringLower(MD5.HashData(_content));
    }

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    static byte[] RandomBytes(int n, int seed)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    string Dest => Path.Combine(_dir, "sub", "weights.npz");

    /// <summary>Leaves a .part as an interrupted earlier run would.</summary>
    async Task WritePartAsync(string dest, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
        await File.WriteAllBytesAsync(dest + ".part", bytes);
    }

    DownloadSource Source(params string[] mirrors) => new("weights", mirrors, _content.Length, _sha256, null);

    [Fact]
    public async Task Good_download_is_verified_and_moved_into_place()
    {
        _server.ServeFile("/w.npz", _content);
        var reports = new List<(long done, long? total)>();
        var progress = new SyncProgress(reports);

        DownloadResult r = await _downloader.DownloadAsync(
            new DownloadSource("weights", [_server.Url("/w.npz")], _content.Length, _sha256.ToUpperInvariant(), _md5),
            Dest, progress, CancellationToken.None);

        Assert.Equal(_content, await File.ReadAllBytesAsync(Dest));
        Assert.False(File.Exists(Dest + ".part"));
        Assert.Equal((Path.GetFullPath(Dest), _server.Url("/w.npz"), (long)_content.Length), (r.Path, r.Mirror, r.Size));
        Assert.Equal(_sha256, r.Sha256);
        Assert.Equal(_md5, r.Md5);
        Assert.True(r.Sha256Verified);
        Assert.True(r.Md5Verified);
        Assert.Equal(_content.Length, r.BytesTransferred);
        Assert.Equal((_content.Length, (long?)_content.Length), reports[^1]);
        Assert.Null(Assert.Single(_server.RequestsTo("/w.npz")).Range);
    }

    [Fact]
    public async Task Broken_off_transfer_is_resumed_with_a_range_request()
    {
        _server.ServeBreakingFile("/w.npz", _content, breakAt: 70_000);

        DownloadResult r = await _downloader.DownloadAsync(Source(_server.Url("/w.npz")), Dest, null, CancellationToken.None);

        Assert.Equal(_sha256, PgIg.Pipeline.Hashing.Sha256OfFile(Dest));
        Assert.Equal(_content.Length, r.BytesTransferred);
        IReadOnlyList<LocalHttpServer.RecordedRequest> requests = _server.RequestsTo("/w.npz");
        Assert.Equal(2, requests.Count);
        Assert.Null(requests[0].Range);
        Assert.Equal("bytes=70000-", requests[1].Range);
    }

    [Fact]
    public async Task Existing_partial_part_is_resumed_and_a_server_ignoring_range_restarts_cleanly()
    {
        _server.ServeFile("/ranged", _content);
        await WritePartAsync(Path.Combine(_dir, "a.bin"), _content[..50_000]);
        DownloadResult ranged = await _downloader.DownloadAsync(Source(_server.Url("/ranged")), Path.Combine(_dir, "a.bin"), null, CancellationToken.None);
        Assert.Equal(_content.Length - 50_000, ranged.BytesTransferred);
        Assert.Equal("bytes=50000-", Assert.Single(_server.RequestsTo("/ranged")).Range);

        _server.ServeFileIgnoringRange("/plain", _content);
        await WritePartAsync(Path.Combine(_dir, "b.bin"), _content[..50_000]);
        DownloadResult plain = await _downloader.DownloadAsync(Source(_server.Url("/plain")), Path.Combine(_dir, "b.bin"), null, CancellationToken.None);
        Assert.Equal(_content.Length, plain.BytesTransferred);
        Assert.Equal(_content, await File.ReadAllBytesAsync(Path.Combine(_dir, "b.bin")));
    }

    [Fact]
    public async Task Mirror_that_restarts_from_zero_and_always_breaks_is_abandoned()
    {
        // Ignoring Range means every retry starts over, so the .part never grows: this must not loop forever.
        _server.ServeBreakingFile("/stuck", _content, breakAt: 4096, breakingRequests: int.MaxValue, honourRange: false);
        _server.ServeFile("/good", _content);

        DownloadResult r = await _downloader.DownloadAsync(
            Source(_server.Url("/stuck"), _server.Url("/good")), Dest, null, CancellationToken.None);

        Assert.Equal(_server.Url("/good"), r.Mirror);
        Assert.Equal(1 + 3, _server.RequestsTo("/stuck").Count);
        Assert.Equal(_content, await File.ReadAllBytesAsync(Dest));
    }

    [Fact]
    public async Task Wrong_file_is_rejected_and_the_next_mirror_used()
    {
        _server.ServeFile("/wrong", RandomBytes(_content.Length, seed: 2));
        _server.ServeFile("/good", _content);

        DownloadResult r = await _downloader.DownloadAsync(
            Source(_server.Url("/wrong"), _server.Url("/good")), Dest, null, CancellationToken.None);

        Assert.Equal(_server.Url("/good"), r.Mirror);
        Assert.Equal(_content, await File.ReadAllBytesAsync(Dest));
        // The bad bytes were thrown away, not resumed: the good mirror was asked for the whole file.
        Assert.Null(Assert.Single(_server.RequestsTo("/good")).Range);
    }

    [Fact]
    public async Task Http_404_falls_through_to_the_next_mirror()
    {
        _server.ServeStatus("/gone", HttpStatusCode.NotFound);
        _server.ServeFile("/good", _content);

        DownloadResult r = await _downloader.DownloadAsync(
            Source(_server.Url("/gone"), _server.Url("/good")), Dest, null, CancellationToken.None);

        Assert.Equal(_server.Url("/good"), r.Mirror);
        Assert.Single(_server.RequestsTo("/gone"));
    }

    [Fact]
    public async Task When_every_mirror_fails_the_message_lists_each_with_its_reason()
    {
        string refused = LocalHttpServer.UnreachableUrl("/x");
        _server.ServeStatus("/gone", HttpStatusCode.NotFound);
        _server.ServeStatus("/down", HttpStatusCode.ServiceUnavailable);
        byte[] wrong = RandomBytes(_content.Length, seed: 3);
        _server.ServeFile("/wrong", wrong);
        _server.ServeBreakingFile("/flaky", _content, breakAt: 512, breakingRequests: int.MaxValue);
        _server.ServeFile("/short", _content[..1000]);
        string[] mirrors =
        [
            _server.Url("/gone"), _server.Url("/down"), _server.Url("/wrong"), _server.Url("/flaky"), _server.Url("/short"), refused,
        ];

        var e = await Assert.ThrowsAsync<DownloadException>(() =>
            _downloader.DownloadAsync(Source(mirrors), Dest, null, CancellationToken.None));

        string wrongSha = Convert.ToHexStringLower(SHA256.HashData(wrong));
        Assert.Equal(mirrors, e.Failures.Select(f => f.Mirror));
        Assert.StartsWith("Could not download 'weights': all 6 mirror(s) failed:", e.Message);
        Assert.Contains($"\n  - {mirrors[0]}: HTTP 404 Not Found", e.Message);
        Assert.Contains($"\n  - {mirrors[1]}: HTTP 503 Service Unavailable", e.Message);
        Assert.Contains($"\n  - {mirrors[2]}: sha256 mismatch: expected {_sha256}, got {wrongSha}", e.Message);
        Assert.Contains($"\n  - {mirrors[3]}: connection closed after 512 of {_content.Length} bytes (gave up after 3 resume attempts)", e.Message);
        Assert.Contains($"\n  - {mirrors[4]}: size mismatch: expected {_content.Length} bytes, server reports 1000", e.Message);
        Assert.Contains($"\n  - {mirrors[5]}: network error: ", e.Message);
        Assert.False(e.AuthFailed);
        Assert.Equal(HttpStatusCode.NotFound, e.Failures[0].StatusCode);
        Assert.Equal(1 + 3, _server.RequestsTo("/flaky").Count);
        Assert.False(File.Exists(Dest));
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.Unauthorized)]
    public async Task Auth_failure_is_flagged(HttpStatusCode status)
    {
        _server.ServeStatus("/ILSVRC2012_img_val.tar", status);
        var e = await Assert.ThrowsAsync<DownloadException>(() => _downloader.DownloadAsync(
            new DownloadSource("val", [_server.Url("/ILSVRC2012_img_val.tar")], null, null, "29b22e2961454d5413ddabcf34fc5622"),
            Dest, null, CancellationToken.None));
        Assert.True(e.AuthFailed);
        Assert.Equal(status, Assert.Single(e.Failures).StatusCode);
    }

    [Fact]
    public async Task Without_a_pinned_hash_the_sha256_is_computed_and_flagged_for_pinning()
    {
        _server.ServeFile("/w.npz", _content);
        DownloadResult r = await _downloader.DownloadAsync(
            new DownloadSource("weights", [_server.Url("/w.npz")], null, null, null), Dest, null, CancellationToken.None);
        Assert.False(r.Sha256Verified);
        Assert.False(r.Md5Verified);
        Assert.Equal(_sha256, r.Sha256);
        Assert.Null(r.Md5);
    }

    [Fact]
    public async Task Complete_part_is_finished_without_downloading_again()
    {
        _server.ServeFile("/w.npz", _content);
        await WritePartAsync(Dest, _content);

        // Size unknown: the server must say 416 for "bytes=N-" and nothing is transferred.
        DownloadResult r = await _downloader.DownloadAsync(
            new DownloadSource("weights", [_server.Url("/w.npz")], null, _sha256, null), Dest, null, CancellationToken.None);
        Assert.Equal(0, r.BytesTransferred);
        Assert.Equal($"bytes={_content.Length}-", Assert.Single(_server.RequestsTo("/w.npz")).Range);
        Assert.Equal(_content, await File.ReadAllBytesAsync(Dest));
        Assert.False(File.Exists(Dest + ".part"));

        // Size known: the part is verified without asking the server at all.
        await WritePartAsync(Dest, _content);
        r = await _downloader.DownloadAsync(Source(_server.Url("/w.npz")), Dest, null, CancellationToken.None);
        Assert.Equal(0, r.BytesTransferred);
        Assert.Single(_server.RequestsTo("/w.npz"));
    }

    [Fact]
    public async Task Corrupt_leftover_part_is_discarded_and_fetched_again_from_the_same_mirror()
    {
        _server.ServeFile("/w.npz", _content);
        byte[] damaged = _content[..100_000];
        damaged[10] ^= 0xFF;
        await WritePartAsync(Dest, damaged);

        DownloadResult r = await _downloader.DownloadAsync(Source(_server.Url("/w.npz")), Dest, null, CancellationToken.None);

        Assert.Equal(_content, await File.ReadAllBytesAsync(Dest));
        Assert.Equal(new string?[] { "bytes=100000-", null }, _server.RequestsTo("/w.npz").Select(q => q.Range));
        Assert.Equal(100_000 + _content.Length, r.BytesTransferred);
    }

    [Fact]
    public async Task Cancellation_keeps_the_part_for_a_later_resume()
    {
        _server.ServeFile("/w.npz", _content);
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(null, onReport: p => { if (p.done > 0) cts.Cancel(); });
        var slow = new Downloader(_http) { ProgressInterval = TimeSpan.Zero };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            slow.DownloadAsync(Source(_server.Url("/w.npz")), Dest, progress, cts.Token));

        Assert.False(File.Exists(Dest));
        long kept = new FileInfo(Dest + ".part").Length;
        Assert.InRange(kept, 1, _content.Length - 1);
        DownloadResult r = await _downloader.DownloadAsync(Source(_server.Url("/w.npz")), Dest, null, CancellationToken.None);
        Assert.Equal(_content.Length - kept, r.BytesTransferred);
        Assert.Equal(_sha256, r.Sha256);
    }

    [Fact]
    public void File_hash_helpers_match_known_digests()
    {
        string path = Path.Combine(_dir, "abc.txt");
        File.WriteAllText(path, "abc");
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", PgIg.Pipeline.Hashing.Sha256OfFile(path));
        Assert.Equal("900150983cd24fb0d6963f7d28e17f72", Downloader.Md5OfFile(path));
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need the reports synchronously.</summary>
    sealed class SyncProgress(List<(long done, long? total)>? sink, Action<(long done, long? total)>? onReport = null)
        : IProgress<(long done, long? total)>
    {
        public void Report((long done, long? total) value)
        {
            lock (this) sink?.Add(value);
            onReport?.Invoke(value);
        }
    }
}
