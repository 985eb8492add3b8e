using PgIg.Data.FashionMnist;
using PgIg.Data.Download;
using PgIg.Tests.Pipeline;
using PgIg.Tests.TestSupport;
using Xunit;

namespace PgIg.Tests.Data;

public class FashionMnistSourceTests
{
    [Fact]
    public async Task Downloads_from_a_mirror_and_verifies_decompressed_content()
    {
        PipelineHarness.RequireFashionData();
        using var server = new LocalHttpServer();
        foreach (var f in FashionMnistSource.Files)
            server.ServeFile("/fmnist/" + f.Name + ".gz", File.ReadAllBytes(FashionMnistSource.Find(FashionMnistSource.DebianDir, f)!));
        var tmp = Directory.CreateTempSubdirectory("pgig-fm-").FullName;
        try
        {
            var empty = Directory.CreateDirectory(Path.Combine(tmp, "empty")).FullName;
            var logs = new List<string>();
            var files = await FashionMnistSource.LocateAsync([empty], true, [server.Url("/fmnist/")], Path.Combine(tmp, "dl"), new HttpClient(), logs.Add);
            Assert.Equal(4, files.Count);
            Assert.All(files.Values, p => Assert.StartsWith(Path.Combine(tmp, "dl"), p));
            Assert.Contains(logs, l => l.Contains("downloading"));

            // second time: found in the download directory, no request
            int requests = FashionMnistSource.Files.Sum(f => server.RequestsTo("/fmnist/" + f.Name + ".gz").Count);
            await FashionMnistSource.LocateAsync([empty, Path.Combine(tmp, "dl")], true, [server.Url("/fmnist/")], Path.Combine(tmp, "dl"), new HttpClient(), logs.Add);
            Assert.Equal(requests, FashionMnistSource.Files.Sum(f => server.RequestsTo("/fmnist/" + f.Name + ".gz").Count));
        }
        finally { Directory.Delete(tmp, true); }
    }

    [Fact]
    public async Task A_file_with_the_wrong_content_is_rejected_with_a_clear_message()
    {
        using var server = new LocalHttpServer();
        foreach (var f in FashionMnistSource.Files) server.ServeFile("/bad/" + f.Name + ".gz", "not the dataset"u8.ToArray());
        var tmp = Directory.CreateTempSubdirectory("pgig-fm-").FullName;
        try
        {
            var e = await Assert.ThrowsAsync<InvalidDataException>(() =>
                FashionMnistSource.LocateAsync([tmp], true, [server.Url("/bad/")], Path.Combine(tmp, "dl"), new HttpClient(), _ => { }));
            Assert.Contains("does not contain Fashion-MNIST", e.Message);
            Assert.False(File.Exists(Path.Combine(tmp, "dl", FashionMnistSource.Files[0].Name + ".gz")));
        }
        finally { Directory.Delete(tmp, true); }
    }

    [Fact]
    public async Task Missing_files_without_download_name_the_package_to_install()
    {
        var tmp = Directory.CreateTempSubdirectory("pgig-fm-").FullName;
        try
        {
            var e = await Assert.ThrowsAsync<FileNotFoundException>(() =>
                FashionMnistSource.LocateAsync([tmp], false, [], Path.Combine(tmp, "dl"), new HttpClient(), _ => { }));
            Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        }
        finally { Directory.Delete(tmp, true); }
    }

    [Fact]
    public async Task A_404_mirror_reports_every_mirror()
    {
        using var server = new LocalHttpServer();
        var tmp = Directory.CreateTempSubdirectory("pgig-fm-").FullName;
        try
        {
            var e = await Assert.ThrowsAsync<DownloadException>(() =>
                FashionMnistSource.LocateAsync([tmp], true, [server.Url("/none/")], Path.Combine(tmp, "dl"), new HttpClient(), _ => { }));
            Assert.Contains("404", e.Message);
        }
        finally { Directory.Delete(tmp, true); }
    }

    [Fact]
    public async Task A_configured_data_path_that_does_not_exist_is_an_error()
    {
        var e = await Assert.ThrowsAsync<DirectoryNotFoundException>(() =>
            FashionMnistSource.LocateAsync("/nonexistent-pgig-data", true, [], "/tmp/unused-dl", new HttpClient(), _ => { }));
        Assert.Contains("data.path /nonexistent-pgig-data does not exist", e.Message);
    }

    [Fact]
    public async Task A_configured_data_path_without_the_data_is_an_error_not_a_silent_fallback()
    {
        var tmp = Directory.CreateTempSubdirectory("pgig-fm-empty-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(tmp, "train-images-idx3-ubyte.gz"), "not gzip");
            var e = await Assert.ThrowsAsync<FileNotFoundException>(() =>
                FashionMnistSource.LocateAsync(tmp, true, [], Path.Combine(tmp, "dl"), new HttpClient(), _ => { }));
            Assert.Contains($"data.path {tmp} does not hold the Fashion-MNIST IDX files", e.Message);
            Assert.Contains("train-images-idx3-ubyte.gz is not Fashion-MNIST's train-images-idx3-ubyte", e.Message);
            Assert.Contains("t10k-labels-idx1-ubyte(.gz) is missing", e.Message);
        }
        finally { Directory.Delete(tmp, true); }
    }

    [Fact]
    public async Task A_damaged_gzip_is_skipped_with_a_message_naming_it()
    {
        PipelineHarness.RequireFashionData();
        var tmp = Directory.CreateTempSubdirectory("pgig-fm-").FullName;
        try
        {
            var f = FashionMnistSource.Files[0];
            var bytes = File.ReadAllBytes(FashionMnistSource.Find(FashionMnistSource.DebianDir, f)!);
            for (int i = 100; i < 400; i++) bytes[i] ^= 0x5A; // inside the deflate stream
            var bad = Path.Combine(tmp, f.Name + ".gz");
            File.WriteAllBytes(bad, bytes);
            var logs = new List<string>();
            var files = await FashionMnistSource.LocateAsync([tmp, FashionMnistSource.DebianDir], false, [], Path.Combine(tmp, "dl"), new HttpClient(), logs.Add);
            Assert.Contains(logs, l => l.StartsWith(bad) && l.Contains("damaged compressed data"));
            Assert.StartsWith(FashionMnistSource.DebianDir, files[f.Name]);
        }
        finally { Directory.Delete(tmp, true); }
    }
}
