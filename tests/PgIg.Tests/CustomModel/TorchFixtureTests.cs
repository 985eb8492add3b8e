using System.Security.Cryptography;
using System.Text.Json;
using PgIg.Formats;
using PgIg.Pipeline;
using TorchSharp;
using Xunit;

namespace PgIg.Tests.CustomModel;

/// <summary>
/// The custom-model fixture made by PyTorch (fixtures/custom-model/make_fixture.py): PgIg reads the state_dict in each
/// format, maps it onto config/custom-model-example.yaml's layer list (three batch norms folded, a strided conv, an
/// overlapping max-pool, average and adaptive pools) and gives PyTorch's logits on the fixture photos.
/// </summary>
public sealed class TorchFixtureTests : IDisposable
{
    readonly CustomModelExample _ex = new();

    public void Dispose() => _ex.Dispose();

    sealed record Expected(string[] Images, int[] Size, string[] Pixels_sha256, int[] Predicted);

    static Expected ReadExpected() =>
        JsonSerializer.Deserialize<Expected>(File.ReadAllText(CustomModelExample.Fixture("expected.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    [Theory]
    [InlineData("tiny_vgg.pt")]
    [InlineData("tiny_vgg.safetensors")]
    [InlineData("tiny_vgg.npz")]
    public async Task Logits_match_pytorchs_on_the_fixture_photos(string weights)
    {
        var cfg = _ex.Config(y => y.Replace("tiny_vgg.pt", weights, StringComparison.Ordinal));
        var plan = await _ex.PlanWithDataAsync(cfg);
        await plan.RunAsync("Preprocess");
        await plan.RunAsync("Fetch");
        var rows = (await ParquetFiles.ReadAsync<ImageRow>(Path.Combine(plan.Cache.DirectoryOf(plan.Get("Preprocess").Units[0].Key), "images.parquet"))).ToList();
        var expected = ReadExpected();
        Assert.Equal(expected.Images.Order(), rows.Select(r => Path.GetFileName(r.File)).Order());

        // the same pixels as Pillow's resize, so any difference below is the network's
        foreach (var r in rows)
        {
            int i = Array.IndexOf(expected.Images, Path.GetFileName(r.File));
            Assert.Equal((3, expected.Size[0], expected.Size[1]), (r.Channels, r.Height, r.Width));
            Assert.Equal(expected.Pixels_sha256[i], Convert.ToHexStringLower(SHA256.HashData(r.Pixels)));
        }

        using var scope = torch.NewDisposeScope();
        using var net = plan.LoadModel();
        var logits = net.Forward(plan.Track.ToInput(rows)).data<float>().ToArray();
        NpyArray torchLogits;
        using (var fs = File.OpenRead(CustomModelExample.Fixture("logits.npy"))) torchLogits = NpyReader.Read(fs, "logits.npy");
        var reference = torchLogits.ToFloat32();
        int classes = (int)torchLogits.Shape[1];
        Assert.Equal(classes, net.NumClasses);
        double maxDiff = 0;
        for (int k = 0; k < rows.Count; k++)
        {
            int i = Array.IndexOf(expected.Images, Path.GetFileName(rows[k].File));
            for (int j = 0; j < classes; j++) maxDiff = Math.Max(maxDiff, Math.Abs(logits[k * classes + j] - reference[i * classes + j]));
            Assert.Equal(expected.Predicted[i], Enumerable.Range(0, classes).MaxBy(j => logits[k * classes + j]));
        }
        Assert.True(maxDiff <= 1e-5, $"max |PgIg − PyTorch| over the logits = {maxDiff:G3}");

        var manifest = plan.Cache.ReadManifest(plan.ModelKey);
        Assert.Equal(3, manifest.Metrics["folded_batch_norms"]!.GetValue<int>());
        Assert.Equal(5, manifest.Metrics["classes"]!.GetValue<long>());
    }

    [Fact]
    public void The_model_key_is_the_files_content_and_the_layer_list()
    {
        string copy = Path.Combine(_ex.Dir, "renamed.pt");
        File.Copy(CustomModelExample.Fixture("tiny_vgg.pt"), copy);
        string Key(Func<string, string> edit) => _ex.Plan(_ex.Config(edit)).ModelKey.Hash;
        string original = Key(y => y);
        Assert.Equal(original, Key(y => y.Replace(CustomModelExample.Fixture("tiny_vgg.pt"), copy, StringComparison.Ordinal)));
        Assert.NotEqual(original, Key(y => y.Replace("tiny_vgg.pt", "tiny_vgg.safetensors", StringComparison.Ordinal)));
        Assert.NotEqual(original, Key(y => y.Replace("{type: batch_norm, name: features.1}", "{type: batch_norm, name: features.1, eps: 0.001}", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_three_formats_hold_the_same_tensors()
    {
        var pt = PgIg.Models.StateDict.Read(CustomModelExample.Fixture("tiny_vgg.pt"));
        Assert.Equal("pytorch", pt.Format);
        foreach (var other in new[] { "tiny_vgg.safetensors", "tiny_vgg.npz" })
        {
            var d = PgIg.Models.StateDict.Read(CustomModelExample.Fixture(other));
            Assert.Equal(pt.Tensors.Keys, d.Tensors.Keys);
            foreach (var (k, t) in pt.Tensors)
            {
                Assert.Equal(t.Shape, d.Tensors[k].Shape);
                Assert.Equal(t.Values, d.Tensors[k].Values);
            }
        }
        Assert.Contains("features.1.running_var", pt.Tensors.Keys);
        Assert.Equal([4L, 3, 3, 3], pt.Tensors["features.0.weight"].Shape);
    }
}
