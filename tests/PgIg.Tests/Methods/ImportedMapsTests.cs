using PgIg.Config;
using PgIg.Formats;
using PgIg.Pipeline;
using PgIg.Reporting;
using PgIg.Stages;
using PgIg.Tests.CustomModel;
using Xunit;

namespace PgIg.Tests.Methods;

/// <summary>
/// Maps made elsewhere ({name, maps, ids}) on config/imported-maps-example.yaml: PyTorch's gradient × input of the
/// custom-model fixture, which must give PgIg's own grad_x_input maps and curves; and every way such a file can be wrong.
/// </summary>
public sealed class ImportedMapsTests : IDisposable
{
    const string Example = "config/imported-maps-example.yaml", Imported = "torch_gradxinput";
    readonly CustomModelExample _ex = new();

    public void Dispose() => _ex.Dispose();

    string P(string name) => Path.Combine(_ex.Dir, name);

    static NpyArray ReadNpy(string path)
    {
        using var fs = File.OpenRead(path);
        return NpyReader.Read(fs, path);
    }

    static string[] FixtureNames()
    {
        string path = CustomModelExample.Fixture("gradxinput_files.npy");
        using var fs = File.OpenRead(path);
        return NpyReader.ReadStrings(fs, NpyReader.ReadHeader(fs, path), path);
    }

    /// <summary>The fixture's maps (3×3×32×48) as one float array per image, in the fixture's order.</summary>
    static float[][] FixtureMaps()
    {
        var all = ReadNpy(CustomModelExample.Fixture("gradxinput_maps.npy")).ToFloat32();
        int per = all.Length / 3;
        return Enumerable.Range(0, 3).Select(i => all[(i * per)..((i + 1) * per)]).ToArray();
    }

    void WriteMaps(string file, float[][] maps, long[] mapShape)
    {
        using var fs = File.Create(P(file));
        NpyWriter.Write(fs, maps.SelectMany(m => m).ToArray(), new long[] { maps.Length }.Concat(mapShape).ToArray());
    }

    void WriteNames(string file, string[] names)
    {
        using var fs = File.Create(P(file));
        NpyWriter.Write(fs, names);
    }

    /// <summary>The example with the imported method reading <paramref name="maps"/> and <paramref name="ids"/> (files in the test's directory).</summary>
    PipelineConfig Config(string? maps = null, string? ids = null, Func<string, string>? edit = null) => _ex.Config(y =>
    {
        if (maps is not null) y = y.Replace(CustomModelExample.Fixture("gradxinput_maps.npy"), P(maps), StringComparison.Ordinal);
        if (ids is not null) y = y.Replace(CustomModelExample.Fixture("gradxinput_files.npy"), P(ids), StringComparison.Ordinal);
        return edit is null ? y : edit(y);
    }, Example);

    async Task<PipelinePlan> AttributeAsync(PipelineConfig c)
    {
        var plan = await _ex.PlanWithDataAsync(c);
        await plan.RunAsync($"Attribute:{Imported}");
        return plan;
    }

    async Task<string> AttributeErrorAsync(PipelineConfig c) =>
        (await Assert.ThrowsAsync<InvalidDataException>(() => AttributeAsync(c))).Message;

    [Fact]
    public async Task PyTorchs_gradient_times_input_gives_PgIgs_grad_x_input_maps_curves_and_summary()
    {
        var c = _ex.Config(config: Example);
        var plan = await _ex.PlanWithDataAsync(c);
        await plan.RunAsync("Plots");
        var attribute = plan.Stage<AttributeStage>();
        var degrade = plan.Stage<DegradeStage>();
        var imported = c.Methods.Single(m => m.Name == Imported);
        var own = c.Methods.Single(m => m.Name == "grad_x_input");

        var a = await attribute.ReadMapsAsync(imported, 0);
        var b = await attribute.ReadMapsAsync(own, 0);
        Assert.Equal(b.Select(r => (r.ImageId, r.TargetClass)), a.Select(r => (r.ImageId, r.TargetClass)));
        for (int i = 0; i < a.Count; i++)
        {
            var x = a[i].MapValues();
            var y = b[i].MapValues();
            double scale = y.Max(Math.Abs), err = x.Zip(y).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(scale > 0 && err <= 1e-4 * scale, $"image {a[i].ImageId}: max |PyTorch − PgIg| = {err:G3} of {scale:G3}");
        }
        var ca = await degrade.ReadCurvesAsync(imported, 0);
        var cb = await degrade.ReadCurvesAsync(own, 0);
        for (int i = 0; i < ca.Count; i++) Assert.Equal(cb[i].Curve, ca[i].Curve);

        var published = Reports.Publish(plan.Cache.DirectoryOf(plan.PlotsKey!), c.ResultsDir);
        var summary = File.ReadAllLines(Path.Combine(c.ResultsDir, "summary.csv"));
        Assert.Contains(summary, l => l.StartsWith(Imported + ",morf,3,", StringComparison.Ordinal));
        Assert.Equal(summary.Single(l => l.StartsWith("grad_x_input,", StringComparison.Ordinal))[("grad_x_input".Length)..],
            summary.Single(l => l.StartsWith(Imported + ",", StringComparison.Ordinal))[Imported.Length..]);
        Assert.Contains(Imported, File.ReadAllLines(Path.Combine(c.ResultsDir, "degradation.csv"))[0].Split(','));
        Assert.True(new FileInfo(Path.Combine(c.ResultsDir, "saliency.png")).Length > 0);
    }

    [Fact]
    public async Task The_key_follows_the_files_content_not_their_place()
    {
        var names = FixtureNames();
        WriteMaps("a.npy", FixtureMaps(), [3, 32, 48]);
        WriteNames("a_ids.npy", names);
        Directory.CreateDirectory(P("moved"));
        File.Copy(P("a.npy"), P("moved/b.npy"));
        File.Copy(P("a_ids.npy"), P("moved/b_ids.npy"));
        string KeyOf(PipelinePlan plan) => plan.Get($"Attribute:{Imported}").Units[0].Key.Hash;

        var first = await _ex.PlanWithDataAsync(Config("a.npy", "a_ids.npy"));
        var moved = _ex.Plan(Config("moved/b.npy", "moved/b_ids.npy"));
        Assert.Equal(KeyOf(first), KeyOf(moved));
        Assert.Equal(KeyOf(first), KeyOf(_ex.Plan(_ex.Config(config: Example))));   // the fixture files themselves

        var maps = FixtureMaps();
        maps[1][5] += 1;
        WriteMaps("moved/b.npy", maps, [3, 32, 48]);
        var edited = _ex.Plan(Config("moved/b.npy", "moved/b_ids.npy"));
        Assert.NotEqual(KeyOf(first), KeyOf(edited));
        // only the imported method's units and the plots move
        var changed = first.AllKeys().Zip(edited.AllKeys()).Where(p => p.First.Hash != p.Second.Hash).Select(p => p.First.Slot).ToList();
        Assert.Equal([$"attribute:{Imported}/shard-0000", $"degrade:{Imported}/shard-0000", "plots"], changed);
    }

    [Fact]
    public async Task Ids_may_be_PgIg_image_ids_and_one_map_may_stand_for_all_channels()
    {
        var plan = await _ex.PlanWithDataAsync(_ex.Config(config: Example));
        var catalog = plan.Track.Catalog(plan.Stage<DataStage>().Directory);
        var names = FixtureNames();
        var ids = names.Select(n => catalog.Single(kv => kv.Value.EndsWith("/" + n, StringComparison.Ordinal)).Key).ToArray();
        using (var fs = File.Create(P("ids.npy"))) NpyWriter.Write(fs, ids, [ids.Length]);
        // the channel sum: ranking by it is ranking by the 3-channel map
        var summed = FixtureMaps().Select(m => Enumerable.Range(0, 32 * 48).Select(p => m[p] + m[32 * 48 + p] + m[2 * 32 * 48 + p]).ToArray()).ToArray();
        WriteMaps("summed.npy", summed, [1, 32, 48]);
        var c = Config("summed.npy", "ids.npy");
        plan = _ex.Plan(c);
        await plan.RunAsync($"Degrade:{Imported}");
        await plan.RunAsync("Degrade:grad_x_input");
        var degrade = plan.Stage<DegradeStage>();
        var a = await degrade.ReadCurvesAsync(c.Methods.Single(m => m.Name == Imported), 0);
        var b = await degrade.ReadCurvesAsync(c.Methods.Single(m => m.Name == "grad_x_input"), 0);
        for (int i = 0; i < a.Count; i++) Assert.Equal(b[i].Curve, a[i].Curve);
    }

    [Fact]
    public async Task Maps_of_images_outside_the_evaluation_set_are_allowed()
    {
        // val_size 2 of the folder's 3 images: the third map is there for a larger run
        var c = _ex.Config(y => y.Replace("val_size: 3", "val_size: 2", StringComparison.Ordinal).Replace("batch_size: 3", "batch_size: 2", StringComparison.Ordinal)
            .Replace("shard_size: 3", "shard_size: 2", StringComparison.Ordinal).Replace("grid_images: 3", "grid_images: 2", StringComparison.Ordinal), Example);
        var plan = await AttributeAsync(c);
        Assert.Equal(2, (await plan.Stage<AttributeStage>().ReadMapsAsync(c.Methods.Single(m => m.Name == Imported), 0)).Count);
    }

    [Fact]
    public async Task Missing_unknown_and_doubled_images_are_errors_that_name_them()
    {
        var maps = FixtureMaps();
        var names = FixtureNames();
        int elephant = Array.IndexOf(names, "elephant.png");

        WriteMaps("two.npy", maps.Where((_, i) => i != elephant).ToArray(), [3, 32, 48]);
        WriteNames("two_ids.npy", names.Where((_, i) => i != elephant).ToArray());
        var missing = await AttributeErrorAsync(Config("two.npy", "two_ids.npy"));
        Assert.Contains("no map for 1 image(s) of the evaluation set in this batch, e.g. 'animals/elephant.png'", missing);

        WriteMaps("four.npy", [.. maps, maps[0]], [3, 32, 48]);
        WriteNames("four_ids.npy", [.. names, "zebra.jpg"]);
        Assert.Contains("1 of its 4 entries name no image of the dataset, e.g. 'zebra.jpg'", await AttributeErrorAsync(Config("four.npy", "four_ids.npy")));

        WriteNames("twice_ids.npy", [.. names, "animals/bee.jpg"]);
        Assert.Contains("both name image 'animals/bee.jpg'", await AttributeErrorAsync(Config("four.npy", "twice_ids.npy")));

        File.Copy(Path.Combine(_ex.Photos, "animals", "bee.jpg"), Path.Combine(_ex.Photos, "buildings", "bee.jpg"));
        Assert.Contains("'bee.jpg' (row 0) could be any of 2 images named so", await AttributeErrorAsync(_ex.Config(config: Example)));
    }

    [Fact]
    public async Task Wrong_shapes_and_non_finite_values_are_errors()
    {
        var maps = FixtureMaps();
        var names = FixtureNames();
        WriteNames("ids.npy", names);

        WriteMaps("small.npy", maps.Select(m => m[..(3 * 16 * 24)]).ToArray(), [3, 16, 24]);
        Assert.Contains("maps of shape (3, 16, 24) (of (3, 3, 16, 24)), but the model's input is (3, 32, 48)", await AttributeErrorAsync(Config("small.npy", "ids.npy")));

        maps[2][100] = float.NaN;
        WriteMaps("nan.npy", maps, [3, 32, 48]);
        Assert.Contains("(row 2) holds NaN values", await AttributeErrorAsync(Config("nan.npy", "ids.npy")));

        // what the files alone tell fails when the pipeline is planned, pointing at the method's entry
        WriteMaps("flat.npy", maps, [3 * 32 * 48]);
        var rank = Assert.Throws<ConfigException>(() => _ex.Plan(Config("flat.npy", "ids.npy")));
        Assert.Contains("method 'torch_gradxinput':", rank.Message);
        Assert.Contains("shape (3, 4608), expected (N, C, H, W)", rank.Message);
        Assert.Matches(@"config\.yaml:\d+:\d+: ", rank.Message);
        WriteNames("two_ids.npy", names[..2]);
        Assert.Contains("holds 3 maps", Assert.Throws<ConfigException>(() => _ex.Plan(Config(null, "two_ids.npy"))).Message);
        Assert.Contains("does not exist", Assert.Throws<ConfigException>(() => _ex.Plan(Config("none.npy", null))).Message);
        using (var fs = File.Create(P("text_maps.npy"))) NpyWriter.Write(fs, names);
        Assert.Contains("dtype <U12, expected float32", Assert.Throws<ConfigException>(() => _ex.Plan(Config("text_maps.npy", null))).Message);
    }

    [Fact]
    public async Task Fashion_mnist_images_are_named_as_pgig_export_names_them()
    {
        // PgIg's own vanilla_grad maps, imported under the test split's file names (t10k[i]): the same curves
        using var h = new PgIg.Tests.Pipeline.PipelineHarness();
        await h.RunAsync(h.Yaml("  - vanilla_grad"), "Attribute:vanilla_grad");
        var plan = h.Plan(h.Yaml("  - vanilla_grad"));
        var own = plan.Config.Methods[0];
        var rows = (await plan.Stage<AttributeStage>().ReadMapsAsync(own, 0)).Concat(await plan.Stage<AttributeStage>().ReadMapsAsync(own, 1)).ToList();
        string maps = Path.Combine(h.Dir, "vg.npy"), names = Path.Combine(h.Dir, "vg_files.npy");
        using (var fs = File.Create(maps)) NpyWriter.Write(fs, rows.SelectMany(r => r.MapValues()).ToArray(), [rows.Count, 1, 28, 28]);
        using (var fs = File.Create(names)) NpyWriter.Write(fs, rows.Select(r => $"t10k[{r.ImageId}]").ToArray());
        string yaml = h.Yaml($"  - vanilla_grad\n  - {{name: vg_imported, maps: {maps}, ids: {names}}}");
        await h.RunAsync(yaml, "Degrade:vanilla_grad");
        await h.RunAsync(yaml, "Degrade:vg_imported");
        plan = h.Plan(yaml);
        for (int shard = 0; shard < 2; shard++)
        {
            var a = await plan.Stage<DegradeStage>().ReadCurvesAsync(plan.Config.Methods[0], shard);
            var b = await plan.Stage<DegradeStage>().ReadCurvesAsync(plan.Config.Methods[1], shard);
            Assert.Equal(a.Select(r => r.Curve), b.Select(r => r.Curve));
        }
    }

    [Theory]
    [InlineData("  - name: torch_gradxinput\n", "  - name: torch_gradxinput\n    rule: pattern\n", "takes no 'rule'")]
    [InlineData("  - name: torch_gradxinput\n", "  - \n", "needs a 'name' for its maps")]
    [InlineData("    ids: ", "    ids_: ", "takes no 'ids_'")]
    [InlineData("  - random\n", "  - random\n  - imported\n", "unknown method 'imported'")]
    public void Config_entries_are_checked(string from, string to, string message)
    {
        string yaml = _ex.Yaml(Example).Replace(from, to, StringComparison.Ordinal);
        Assert.Contains(message, Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "c.yaml")).Message);
    }

    [Fact]
    public void Text_arrays_read_and_write_as_numpy_does()
    {
        string fixture = CustomModelExample.Fixture("gradxinput_files.npy");
        Assert.Equal(["bee.jpg", "castle.jpg", "elephant.png"], FixtureNames());
        using var ms = new MemoryStream();
        NpyWriter.Write(ms, FixtureNames());
        Assert.Equal(File.ReadAllBytes(fixture), ms.ToArray());   // byte for byte what np.save wrote
        var e = Assert.Throws<InvalidDataException>(() => ReadNpy(fixture));
        Assert.Contains("holds text (dtype <U12), expected numbers", e.Message);
    }
}
