using PgIg.Config;
using PgIg.Data.ImageNet;
using PgIg.Data.Images;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tracks;
using TorchSharp;
using Xunit;

namespace PgIg.Tests.ImageNetTrack;

public sealed class ImageFolderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-folder-").FullName;
    readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    PipelineConfig Config(string dataPath, int valSize = 5) => ConfigLoader.Parse($"""
        track: image-folder
        val_size: {valSize}
        batch_size: 5
        cache_dir: {Path.Combine(_dir, "cache")}
        data:
          path: {dataPath}
        model:
          weights: {Path.Combine(_dir, "w.npz")}
        methods: [vanilla_grad]
        """, Path.Combine(_dir, "c.yaml"));

    PipelinePlan Plan(PipelineConfig c) =>
        new(c, TrackFactory.Create(c), new StageContext(c, new ArtifactCache(c.CacheDir), _ => { }, _http));

    [Fact]
    public async Task Preprocessed_shards_turn_into_the_originals_BGR_mean_subtracted_input()
    {
        NarrowVgg.MakeImageFolder(Path.Combine(_dir, "photos"));
        var c = Config(Path.Combine(_dir, "photos"));
        await Plan(c).RunAsync("Data");
        var plan = Plan(c);
        Assert.Equal([0L, 1, 2, 3, 4], plan.Images!.Select(v => v.Id).Order()); // ids: listing positions
        await plan.RunAsync("Preprocess");
        var rows = (await ParquetFiles.ReadAsync<ImageRow>(Path.Combine(plan.Cache.DirectoryOf(plan.Get("Preprocess").Units[0].Key), "images.parquet"))).ToList();
        Assert.Equal(plan.Images!.Select(v => v.Id), rows.Select(r => r.ImageId));
        Assert.All(rows, r => Assert.Equal((3, 225, 225, 3 * 225 * 225), (r.Channels, r.Height, r.Width, r.Pixels.Length)));

        using var x = plan.Track.ToInput(rows);
        Assert.Equal([5L, 3, 225, 225], x.shape);
        for (int i = 0; i < rows.Count; i++)
        {
            var expected = VggPreprocess.Load(Path.Combine(_dir, "photos", rows[i].File));
            Assert.Equal(expected, x[i].contiguous().data<float>().ToArray());
        }
        // a stored R plane value shows up in the input's third (R) plane
        Assert.Equal(rows[0].Pixels[0] - 123.68f, x[0, 2, 0, 0].item<float>(), 4);
    }

    [Fact]
    public async Task Undecodable_image_fails_preprocess_with_its_path_and_leaves_no_artifact()
    {
        NarrowVgg.MakeImageFolder(Path.Combine(_dir, "photos"));
        File.WriteAllText(Path.Combine(_dir, "photos", "castle", "castle2.jpg"), "not a jpeg");
        var c = Config(Path.Combine(_dir, "photos"));
        await Plan(c).RunAsync("Data");
        var plan = Plan(c);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => plan.RunAsync("Preprocess"));
        Assert.Contains("castle2.jpg", e.Message);
        Assert.DoesNotContain(Directory.EnumerateDirectories(Path.Combine(_dir, "cache", "preprocess")), d => Path.GetFileName(d) != ".locks");
    }

    [Fact]
    public async Task A_gif_named_png_with_garbage_fails_preprocess_naming_the_file()
    {
        NarrowVgg.MakeImageFolder(Path.Combine(_dir, "photos"));
        File.WriteAllText(Path.Combine(_dir, "photos", "castle", "castle2.png"), "GIF89a garbage");
        var c = Config(Path.Combine(_dir, "photos"), valSize: 6);
        await Plan(c).RunAsync("Data");
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Plan(c).RunAsync("Preprocess"));
        Assert.Contains("castle2.png", e.Message);
    }

    [Fact]
    public async Task Missing_or_imagenet_shaped_folders_are_explained()
    {
        var missing = await Assert.ThrowsAsync<DataSourceException>(() => Plan(Config(Path.Combine(_dir, "none"))).RunAsync("Data"));
        Assert.Contains("<class>/<images>", missing.Message);

        Directory.CreateDirectory(Path.Combine(_dir, "imnet", "val", "n01440764"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "images", "bee.jpg"), Path.Combine(_dir, "imnet", "val", "n01440764", "ILSVRC2012_val_00000001.JPEG"));
        var imagenet = await Assert.ThrowsAsync<DataSourceException>(() => Plan(Config(Path.Combine(_dir, "imnet"))).RunAsync("Data"));
        Assert.Contains("use track: imagenet", imagenet.Message);

        NarrowVgg.MakeImageFolder(Path.Combine(_dir, "photos"));
        var c = Config(Path.Combine(_dir, "photos"), valSize: 6);
        await Plan(c).RunAsync("Data");
        var tooMany = Assert.Throws<ConfigException>(() => Plan(c));
        Assert.Contains("val_size 6 exceeds the 5 images", tooMany.Message);
    }
}
