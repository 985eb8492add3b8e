using System.Net;
using System.Security.Cryptography;
using PgIg.Data.Download;
using PgIg.Models;
using PgIg.Pipeline;
using PgIg.Tests.TestSupport;
using PgIg.Tracks;
using Xunit;

namespace PgIg.Tests.ImageNetTrack;

/// <summary>The Fetch download path of the VGG16 tracks against a local HTTP server.</summary>
public sealed class NpzFetchTests : IDisposable
{
    readonly LocalHttpServer _server = new();
    readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-fetch-").FullName;
    readonly byte[] _weights;
    readonly string _sha;
    readonly List<string> _log = [];

    public NpzFetchTests()
    {
        NarrowVgg.WriteWeights(Path.Combine(_dir, "w.npz"), seed: 7);
        _weights = File.ReadAllBytes(Path.Combine(_dir, "w.npz"));
        _sha = Convert.ToHexStringLower(SHA256.HashData(_weights));
    }

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    string Downloads => Path.Combine(_dir, "cache", "downloads");

    static NpzSource Weights(string? local, string? sha, params string[] mirrors) =>
        new("weights", "imagenet_224_vgg_16.npz", local, mirrors, sha, "model.weights", "model.weights_sha256", "model.weights_mirrors", Vgg16Npz.ReadWeights);

    Task<(FetchedFile File, List<TensorRow> Rows)> Fetch(NpzSource src) =>
        NpzFetch.ResolveAsync(src, Downloads, new Downloader(_http) { RetryDelay = TimeSpan.Zero, StallTimeout = TimeSpan.FromSeconds(5) },
            p => Vgg16Npz.ReadWeights(p).ToList(), _log.Add, null, new FileHashMemo(Path.Combine(_dir, "cache")));

    [Fact]
    public async Task Good_file_is_downloaded_parsed_and_its_hash_printed_for_pinning()
    {
        _server.ServeFile("/w.npz", _weights);
        var (file, rows) = await Fetch(Weights(null, null, _server.Url("/w.npz")));
        Assert.Equal(32, rows.Count);
        Assert.Equal(_sha, file.Sha256);
        Assert.Equal(Path.Combine(Downloads, "imagenet_224_vgg_16.npz"), file.Path);
        Assert.Contains(_log, l => l.Contains($"pin it in the config: model.weights_sha256: {_sha}", StringComparison.Ordinal));

        // a second resolve reuses the download without asking the server
        var (again, _) = await Fetch(Weights(null, null, _server.Url("/w.npz")));
        Assert.Equal(_sha, again.Sha256);
        Assert.Single(_server.RequestsTo("/w.npz"));
    }

    [Fact]
    public async Task Broken_off_download_is_resumed_with_a_range_request()
    {
        _server.ServeBreakingFile("/w.npz", _weights, breakAt: _weights.Length / 2);
        var (file, _) = await Fetch(Weights(null, _sha, _server.Url("/w.npz")));
        Assert.Equal(_sha, file.Sha256);
        var requests = _server.RequestsTo("/w.npz");
        Assert.Equal(2, requests.Count);
        Assert.Equal($"bytes={_weights.Length / 2}-", requests[1].Range);
        Assert.DoesNotContain(_log, l => l.Contains("pin it", StringComparison.Ordinal)); // pinned: nothing to print
    }

    [Fact]
    public async Task Unusable_file_from_the_first_mirror_falls_through_to_the_next()
    {
        // a patterns file where weights are expected: downloads fine (no pin), fails to parse
        NarrowVgg.WritePatterns(Path.Combine(_dir, "a.npz"), 1);
        _server.ServeFile("/wrong.npz", File.ReadAllBytes(Path.Combine(_dir, "a.npz")));
        _server.ServeFile("/good.npz", _weights);
        var (file, _) = await Fetch(Weights(null, null, _server.Url("/wrong.npz"), _server.Url("/good.npz")));
        Assert.Equal(_server.Url("/good.npz"), file.Origin);
        Assert.Equal(_sha, file.Sha256);
        Assert.Single(_server.RequestsTo("/wrong.npz"));
    }

    [Fact]
    public async Task Pinned_hash_rejects_a_different_file_and_tries_the_next_mirror()
    {
        var other = (byte[])_weights.Clone();
        other[^100] ^= 0xFF;
        _server.ServeFile("/other.npz", other);
        _server.ServeFile("/good.npz", _weights);
        var (file, _) = await Fetch(Weights(null, _sha.ToUpperInvariant(), _server.Url("/other.npz"), _server.Url("/good.npz")));
        Assert.Equal(_server.Url("/good.npz"), file.Origin);
    }

    [Fact]
    public async Task All_mirrors_failing_lists_each_and_names_the_config_fields()
    {
        _server.ServeStatus("/gone.npz", HttpStatusCode.NotFound);
        var e = await Assert.ThrowsAsync<FetchException>(() => Fetch(Weights(null, null, _server.Url("/gone.npz"), _server.Url("/missing-too.npz"))));
        Assert.Contains(_server.Url("/gone.npz") + ": HTTP 404", e.Message);
        Assert.Contains(_server.Url("/missing-too.npz") + ": HTTP 404", e.Message);
        Assert.Contains("model.weights: <path>", e.Message);
        Assert.False(File.Exists(Path.Combine(Downloads, "imagenet_224_vgg_16.npz")));
    }

    [Fact]
    public async Task Local_file_is_used_as_is_and_checked_against_its_pin()
    {
        string local = Path.Combine(_dir, "w.npz");
        var (file, _) = await Fetch(Weights(local, null));
        Assert.Equal(_sha, file.Sha256);
        Assert.Equal(local, file.Path);

        var wrongPin = await Assert.ThrowsAsync<FetchException>(() => Fetch(Weights(local, new string('0', 64))));
        Assert.Contains("model.weights_sha256 pins 000", wrongPin.Message);
        var missing = await Assert.ThrowsAsync<FetchException>(() => Fetch(Weights(Path.Combine(_dir, "nope.npz"), null)));
        Assert.StartsWith("model.weights: file not found", missing.Message);
    }
}
