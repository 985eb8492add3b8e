using PgIg.Config;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tests.TestSupport;
using PgIg.Tracks;

namespace PgIg.Tests.CustomModel;

/// <summary>
/// The shipped config/custom-model-example.yaml with its relative paths made absolute (fixture files, a temporary
/// image folder holding the three fixture photos in two classes, a temporary cache), so tests run what the README runs.
/// </summary>
public sealed class CustomModelExample : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("pgig-custom-").FullName;
    public string Photos => Path.Combine(Dir, "photos");
    public HttpClient Http { get; } = new();

    public static string FixtureDir => Path.Combine(AppContext.BaseDirectory, "fixtures", "custom-model");
    public static string Fixture(string name) => Path.Combine(FixtureDir, name);

    public CustomModelExample()
    {
        var images = Path.Combine(AppContext.BaseDirectory, "fixtures", "images");
        foreach (var (cls, file) in new[] { ("animals", "bee.jpg"), ("animals", "elephant.png"), ("buildings", "castle.jpg") })
        {
            Directory.CreateDirectory(Path.Combine(Photos, cls));
            File.Copy(Path.Combine(images, file), Path.Combine(Photos, cls, file));
        }
    }

    /// <summary>The example config's text with this test's paths; <paramref name="edit"/> changes it further.</summary>
    public string Yaml(string config = "config/custom-model-example.yaml", Func<string, string>? edit = null)
    {
        string yaml = File.ReadAllText(RepoFiles.Path(config))
            .Replace("path: data/photos", $"path: {Photos}", StringComparison.Ordinal)
            .Replace("tests/PgIg.Tests/fixtures/custom-model/", FixtureDir + "/", StringComparison.Ordinal);
        yaml = System.Text.RegularExpressions.Regex.Replace(yaml, "^results_dir: .*$", $"results_dir: {Path.Combine(Dir, "results")}\ncache_dir: {Path.Combine(Dir, "cache")}",
            System.Text.RegularExpressions.RegexOptions.Multiline);
        return edit is null ? yaml : edit(yaml);
    }

    public PipelineConfig Config(Func<string, string>? edit = null, string config = "config/custom-model-example.yaml")
    {
        string file = Path.Combine(Dir, "config.yaml");
        File.WriteAllText(file, Yaml(config, edit));
        return ConfigLoader.Load(file);
    }

    public PipelinePlan Plan(PipelineConfig c, List<string>? log = null) =>
        new(c, TrackFactory.Create(c), new StageContext(c, new ArtifactCache(c.CacheDir), m => log?.Add(m), Http));

    /// <summary>A plan whose evaluation set is known (the Data stage has run).</summary>
    public async Task<PipelinePlan> PlanWithDataAsync(PipelineConfig c, List<string>? log = null)
    {
        await Plan(c).RunAsync("Data");
        return Plan(c, log);
    }

    public void Dispose()
    {
        Http.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
