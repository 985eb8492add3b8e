using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using PgIg.Cli;
using PgIg.Config;
using PgIg.Data.Download;
using PgIg.Data.ImageNet;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tests.ImageNet;
using PgIg.Tests.TestSupport;
using PgIg.Tracks;
using Xunit;

namespace PgIg.Tests.ImageNetTrack;

/// <summary>The ImageNet track's Data stage: a missing dataset, the key download and its error mapping.</summary>
public sealed class ImageNetDataTests : IDisposable
{
    const string Key = "s3cr3tKey42";
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-imnet-").FullName;
    readonly LocalHttpServer _server = new();
    readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    string Yaml(string dataPath, string? key = null) => $"""
        track: imagenet
        val_size: 3
        batch_size: 3
        cache_dir: {Path.Combine(_dir, "cache")}
        data:
          path: {dataPath}
        {(key is null ? "" : $"  imagenet_key: {key}")}
        model:
          weights: {Path.Combine(_dir, "w.npz")}
        methods: [vanilla_grad]
        """;

    (PipelinePlan Plan, List<string> Log) Plan(PipelineConfig cfg)
    {
        var log = new List<string>();
        var ctx = new StageContext(cfg, new ArtifactCache(cfg.CacheDir), log.Add, _http);
        return (new PipelinePlan(cfg, TrackFactory.Create(cfg), ctx), log);
    }

    [Fact]
    public async Task Missing_dataset_without_key_lists_the_layouts_and_the_key_option_and_leaves_no_artifact()
    {
        var cfg = ConfigLoader.Parse(Yaml(Path.Combine(_dir, "nothing-here")), Path.Combine(_dir, "c.yaml"));
        var (plan, _) = Plan(cfg);
        Assert.False(plan.Get("Preprocess").Known);
        var e = await Assert.ThrowsAsync<DataSourceException>(() => plan.RunAsync("Data"));
        Assert.Contains("Accepted layouts", e.Message);
        Assert.Contains("val/<wnid>/*.JPEG", e.Message);
        Assert.Contains("--imagenet-key", e.Message);
        Assert.Contains("PGIG_IMAGENET_KEY", e.Message);
        var dataDir = Path.Combine(_dir, "cache", "data");
        Assert.DoesNotContain(Directory.EnumerateDirectories(dataDir), d => Path.GetFileName(d) != ".locks");
    }

    [Fact]
    public async Task Missing_dataset_through_the_cli_prints_one_error_and_exits_non_zero()
    {
        string file = Path.Combine(_dir, "c.yaml");
        File.WriteAllText(file, Yaml(Path.Combine(_dir, "nothing-here")));
        var err = new StringWriter();
        var old = Console.Error;
        Console.SetError(err);
        int rc;
        try { rc = await PgIgCli.RunAsync(["run", "Data", "--config", file]); }
        finally { Console.SetError(old); }
        Assert.Equal(1, rc);
        Assert.StartsWith("pgig: error: data folder does not exist", err.ToString());
        Assert.Contains("--imagenet-key", err.ToString());
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.NotFound)]
    public async Task Refused_key_download_says_the_key_is_wrong_without_printing_it(HttpStatusCode status)
    {
        var files = ImageNetDownload.ValFiles(Key).Select(f => f with { Url = _server.Url($"/{Key}/{f.FileName}") }).ToList();
        foreach (var f in files) _server.ServeStatus($"/{Key}/{f.FileName}", status);
        var e = await Assert.ThrowsAsync<DataSourceException>(() =>
            ImageNetKeyDownload.RunAsync(Path.Combine(_dir, "imagenet"), files, Key, new Downloader(_http), _ => { }, null));
        Assert.Contains($"HTTP {(int)status}", e.Message);
        Assert.Contains("the ImageNet key is wrong or has expired", e.Message);
        Assert.Contains("/<key>/ILSVRC2012_devkit_t12.tar.gz", e.Message);
        Assert.DoesNotContain(Key, e.Message);
    }

    [Fact]
    public async Task Key_download_extracts_sorts_and_feeds_the_data_stage_with_val_number_ids()
    {
        // archives as image-net.org serves them: the devkit as tar.gz, the val images flat in a tar
        using var tree = new DataTree();
        tree.Devkit();
        for (int k = 1; k <= 5; k++) tree.Put($"flat/{DataTree.ValName(k)}", k % 2 == 0 ? "castle.jpg" : "bee.jpg");
        byte[] devkit = TarGz(tree.Root, "ILSVRC2012_devkit_t12");
        byte[] val = Tar(Path.Combine(tree.Root, "flat"));
        var files = new List<DownloadFile>
        {
            new(_server.Url($"/{Key}/ILSVRC2012_devkit_t12.tar.gz"), "ILSVRC2012_devkit_t12.tar.gz", Md5(devkit)),
            new(_server.Url($"/{Key}/ILSVRC2012_img_val.tar"), "ILSVRC2012_img_val.tar", Md5(val)),
        };
        _server.ServeFile($"/{Key}/ILSVRC2012_devkit_t12.tar.gz", devkit);
        _server.ServeFile($"/{Key}/ILSVRC2012_img_val.tar", val);
        string root = Path.Combine(_dir, "imagenet");
        var log = new List<string>();
        await ImageNetKeyDownload.RunAsync(root, files, Key, new Downloader(_http), log.Add, null);
        Assert.True(ImageNetKeyDownload.IsDone(root));
        Assert.True(File.Exists(Path.Combine(root, "val", "n01443537", DataTree.ValName(1)))); // ground truth id 2
        Assert.DoesNotContain(log, l => l.Contains(Key, StringComparison.Ordinal));

        // the track keeps the download's Data key (planned before and after the download alike) and ids are val numbers
        var cfg = ConfigLoader.Parse(Yaml(root, Key), Path.Combine(_dir, "c.yaml"));
        var (plan, _) = Plan(cfg);
        await plan.RunAsync("Data");
        var (again, _) = Plan(cfg);
        Assert.Equal(plan.DataKey.Hash, again.DataKey.Hash);
        Assert.NotNull(again.Images);
        Assert.Equal(3, again.Images!.Count);
        Assert.All(again.Images, v => Assert.InRange(v.Id, 1, 5));
        Assert.Equal(3, again.Images.Select(v => v.Label).Distinct().Count()); // stratified: one per class first
    }

    static string Md5(byte[] b) => Convert.ToHexStringLower(MD5.HashData(b));

    static byte[] Tar(string dir)
    {
        using var ms = new MemoryStream();
        TarFile.CreateFromDirectory(dir, ms, includeBaseDirectory: false);
        return ms.ToArray();
    }

    static byte[] TarGz(string parent, string folder)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var w = new TarWriter(gz, TarEntryFormat.Pax))
            foreach (var f in Directory.GetFiles(Path.Combine(parent, folder), "*", SearchOption.AllDirectories))
                w.WriteEntry(f, Path.GetRelativePath(parent, f).Replace('\\', '/'));
        return ms.ToArray();
    }
}
