using PgIg.Config;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tests.Pipeline;
using PgIg.Tracks;
using Xunit;

namespace PgIg.Tests.Stages;

/// <summary>
/// Every unit key of the shipped Fashion-MNIST configs, pinned (fixtures/stage-keys/*.tsv, from `pgig plan --json`),
/// so caches made before stay valid. Fetch … Attribute are the keys of commit 13dd104, from before the stages became
/// classes; Degrade and Plots moved once, when degrade.engine entered the Degrade key and the random order became
/// its own unit (degrade-v2); Plots moved again to plots-v3 with the figure changes of issue 11, and to plots-v4 when it gained the pairwise comparison and the random reference line (issue 12). Train (train-v3) and Patterns (patterns-v3), and so every key downstream of the model, moved when tensor artifacts were split into chunk rows (issue 9, memory). Every key moved
/// once more when keys gained the fingerprint of what their code computes (issue 11, <see cref="CodeId"/>). The Sanity units (issue 12, item 4) are new; fashion-mnist's Plots key moved once more because that config enables sanity and Plots reads its units (a config without a sanity section keeps its Plots key, as smoke's shows). A change that must move a key updates the fixture in the commit that says why:
/// run `pgig run Data --config config/&lt;name&gt;.yaml --cache-dir X`, then write `pgig plan --config ... --cache-dir X --json`'s units as
/// stage name, slot and key, tab-separated (jq -r '.stages[] | .name as $n | .units[] | "\($n)\t\(.slot)\t\(.key)"').
/// </summary>
public sealed class StageKeyPinTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string RepoFile(string relative) => TestSupport.RepoFiles.Path(relative);

    [Theory]
    [InlineData("smoke")]
    [InlineData("fashion-mnist")]
    public async Task Unit_keys_of_the_shipped_configs_are_the_pinned_ones(string name)
    {
        PipelineHarness.RequireFashionData();
        var cfg = ConfigLoader.Load(RepoFile($"config/{name}.yaml")) with { CacheDir = Path.Combine(_dir, "cache") };
        using var http = new HttpClient();
        PipelinePlan Open() => new(cfg, TrackFactory.Create(cfg), new StageContext(cfg, new ArtifactCache(cfg.CacheDir), _ => { }, http));
        await Open().RunAsync("Data"); // the evaluation set, hence the shard keys, comes from the Data stage
        var plan = Open();

        var actual = plan.Stages.SelectMany(s => s.Units.Select(u => $"{s.Name}\t{u.Key.Slot}\t{u.Key.Hash}")).ToList();
        var pinned = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "fixtures", "stage-keys", $"{name}.tsv"));
        Assert.Equal(pinned.Length, actual.Count);
        for (int i = 0; i < pinned.Length; i++) Assert.Equal(pinned[i], actual[i]);
    }
}
