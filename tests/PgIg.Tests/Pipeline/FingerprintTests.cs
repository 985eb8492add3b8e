using PgIg.Config;
using PgIg.Methods;
using PgIg.Models;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tests.TestSupport;
using PgIg.Tracks;
using Xunit;
using static TorchSharp.torch;

namespace PgIg.Tests.Pipeline;

/// <summary>Stage keys cover a fingerprint of what the code computes (<see cref="Fingerprints"/>): stable where only round-off
/// differs (thread counts, processes), moved by a change in numbers, and only for the unit whose code changed.</summary>
public sealed class FingerprintTests(FingerprintTests.DataCache data) : IDisposable, IClassFixture<FingerprintTests.DataCache>
{
    /// <summary>A cache with the Data stage of the Fashion-MNIST configs, made once for the class.</summary>
    public sealed class DataCache : IDisposable
    {
        public string Dir { get; } = Directory.CreateTempSubdirectory("pgig-fp-data-").FullName;
        public void Dispose() => Directory.Delete(Dir, recursive: true);
    }

    readonly string _dir = Directory.CreateTempSubdirectory("pgig-fp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Digest(IReadOnlyList<double> values, double perturbation = 0) => new NumericDigest(perturbation).AddSeries("v", values).Hash;

    [Fact]
    public void The_digest_ignores_round_off_and_sees_a_change_of_1e_4()
    {
        double[] v = ProbeInput.Uniform("digest", 1000);
        Assert.Equal(Digest(v), Digest(v, 1e-12));
        Assert.NotEqual(Digest(v), Digest(v, 1e-4));
        // one value changed by 1e-4 of the largest
        var one = (double[])v.Clone();
        one[500] += 1e-4 * v.Max(Math.Abs);
        Assert.NotEqual(Digest(v), Digest(one));
        // cancellation garbage (a variance of equal samples) is rounded against the largest value, not its own
        Assert.Equal(Digest([1.0, 1e-17, 0.5]), Digest([1.0, -3e-17, 0.5]));
    }

    /// <summary>Every plan of the Fashion-MNIST config, all twelve methods, with fingerprints computed afresh (no memo).</summary>
    async Task<Dictionary<string, string>> KeysAsync(Func<string, double>? perturbation = null, string config = "fashion-mnist")
    {
        var cache = data.Dir;
        PipelineHarness.RequireFashionData();
        var cfg = ConfigLoader.Load(RepoFiles.Path($"config/{config}.yaml")) with { CacheDir = cache };
        using var http = new HttpClient();
        PipelinePlan Open() => new(cfg, TrackFactory.Create(cfg),
            new StageContext(cfg, new ArtifactCache(cfg.CacheDir), _ => { }, http) { Fingerprints = new Fingerprints(null, perturbation ?? (_ => 0)) });
        if (!Directory.Exists(Path.Combine(cache, "data"))) await Open().RunAsync("Data");
        return Open().AllKeys().ToDictionary(k => k.Slot, k => k.Hash);
    }

    [Fact]
    public async Task Keys_do_not_depend_on_the_torch_thread_count()
    {
        int threads = get_num_threads();
        try
        {
            set_num_threads(1);
            var one = await KeysAsync();
            set_num_threads(2);
            var two = await KeysAsync();
            Assert.Equal(one, two);
        }
        finally { set_num_threads(threads); }
    }

    [Fact]
    public async Task A_change_in_one_method_moves_its_own_keys_and_no_other()
    {
        var before = await KeysAsync();
        // integrated gradients with the gradient rule (not PGIG, its pattern twin) computes 1e-4 more
        var after = await KeysAsync(id => id.StartsWith("method/integrate_grad/gradient/", StringComparison.Ordinal) ? 1e-4 : 0);
        var moved = before.Keys.Where(s => before[s] != after[s]).ToList();
        Assert.NotEmpty(moved);
        Assert.All(moved, s => Assert.Matches("^(attribute:integrate_grad/|degrade:integrate_grad/|sanity:integrate_grad/|plots$)", s));
        Assert.Contains("plots", moved);
        // its Sanity units (when the config enables sanity) recompute its maps on randomised models, so they move too
        // its Degrade units of every replacement (mean, road) move with it
        Assert.Equal(before.Keys.Count(s => s.StartsWith("attribute:integrate_grad/", StringComparison.Ordinal))
            + before.Keys.Count(s => s.StartsWith("degrade:integrate_grad/", StringComparison.Ordinal))
            + before.Keys.Count(s => s.StartsWith("sanity:integrate_grad/", StringComparison.Ordinal)) + 1, moved.Count);
        // below the rounding: nothing moves
        Assert.Equal(before, await KeysAsync(id => id.StartsWith("method/integrate_grad/gradient/", StringComparison.Ordinal) ? 1e-12 : 0));
    }

    [Fact]
    public async Task A_change_in_the_degradation_engine_moves_degrade_and_plots_keys_only()
    {
        var before = await KeysAsync();
        var after = await KeysAsync(id => id.StartsWith("degrade/", StringComparison.Ordinal) ? 1e-4 : 0);
        var moved = before.Keys.Where(s => before[s] != after[s]).ToList();
        Assert.Equal(before.Keys.Where(s => s.StartsWith("degrade:", StringComparison.Ordinal) || s == "plots").Order(), moved.Order());
    }

    /// <summary>A method variant that differs from integrated gradients by a factor 1 + δ, as a changed numeric core would.</summary>
    static MethodKind ScaledIg(double delta) => IntegratedGradients.Declaration with
    {
        Build = b => new Scaled(IntegratedGradients.Declaration.Build(b), delta),
    };

    sealed class Scaled(AttributionMethod inner, double delta) : AttributionMethod
    {
        public override string Kind => inner.Kind;
        public override long PassesPerImage => inner.PassesPerImage;
        public override Tensor Attribute(Tensor x, Tensor classes, BatchInfo batch) => inner.Attribute(x, classes, batch) * (1 + delta);
    }

    [Theory]
    [InlineData("gradient")]
    [InlineData("pattern")]
    public void A_method_variant_has_another_fingerprint_unless_it_differs_below_the_rounding(string rule)
    {
        var q = Quirks.Faithful;
        string Of(MethodKind k) => Fingerprints.Compute(d => MethodProbe.Run(d, new MethodProbe.Request(k, rule, q)));
        var ig = Of(IntegratedGradients.Declaration);
        Assert.NotEqual(ig, Of(ScaledIg(1e-4)));
        Assert.Equal(ig, Of(ScaledIg(1e-12)));
    }

    [Fact]
    public void Every_method_and_rule_has_a_fingerprint_of_its_own()
    {
        var q = Quirks.Faithful with { ExpGradBatchBaselines = false };
        var seen = new Dictionary<string, string>();
        foreach (var kind in MethodRegistry.Kinds)
            foreach (var rule in kind.NeedsBackward ? MethodRegistry.Rules : ["gradient"])
            {
                var fp = Fingerprints.Compute(d => MethodProbe.Run(d, new MethodProbe.Request(kind, rule, q)));
                Assert.False(seen.TryGetValue(fp, out var other), $"{kind.Name}/{rule} has the fingerprint of {other}");
                seen[fp] = $"{kind.Name}/{rule}";
            }
    }

    [Fact]
    public void A_published_fingerprint_is_used_by_every_later_process()
    {
        var dir = Path.Combine(_dir, Fingerprints.DirectoryName, Fingerprints.BuildId);
        string File(string id) => Path.Combine(dir, Hashing.Sha256Hex(id)[..32]);
        // a process that computes a fingerprint publishes it
        string first = $"test/{Guid.NewGuid():N}";
        var fp = new Fingerprints(_dir).Of(first, d => d.AddSeries("x", [1.0]));
        Assert.Equal([first, fp], System.IO.File.ReadAllLines(File(first)));
        // another process (a cluster node) published first: this one takes its value and runs no probe
        string second = $"test/{Guid.NewGuid():N}";
        System.IO.File.WriteAllLines(File(second), [second, "0123456789abcdef"]);
        Assert.Equal("0123456789abcdef", new Fingerprints(_dir).Of(second, _ => throw new InvalidOperationException("the published value must be used")));
    }

    [Fact]
    public async Task Processes_with_other_thread_counts_plan_the_same_keys()
    {
        var cache = data.Dir;
        await KeysAsync(config: "smoke");   // the Data stage, so the plan lists every unit
        async Task<string> PlanAsync(int threads)
        {
            var config = Path.Combine(_dir, $"smoke-{threads}.yaml");
            File.WriteAllText(config, $"threads: {threads}\n" + File.ReadAllText(RepoFiles.Path("config/smoke.yaml")));
            if (Directory.Exists(Path.Combine(cache, Fingerprints.DirectoryName))) Directory.Delete(Path.Combine(cache, Fingerprints.DirectoryName), recursive: true);
            var r = await PgigProcess.RunAsync(_dir, null, "plan", "--config", config, "--cache-dir", cache, "--json");
            Assert.True(r.ExitCode == 0, r.All);
            return string.Join("\n", System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement.GetProperty("stages").EnumerateArray()
                .SelectMany(s => s.GetProperty("units").EnumerateArray()).Select(u => u.ToString()));
        }
        var one = await PlanAsync(1);
        Assert.Contains("attribute:integrate_grad", one);
        Assert.Equal(one, await PlanAsync(2));
    }
}
