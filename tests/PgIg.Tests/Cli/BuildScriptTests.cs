using PgIg.Tests.TestSupport;
using Xunit;

namespace PgIg.Tests.Cli;

/// <summary>./build.sh as a user types it: option checking, help, target names, failure lines (each run a few seconds).</summary>
public sealed class BuildScriptTests : IDisposable
{
    readonly string _root = Config.ConfigLoaderTests.RepoRoot();
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-cake-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // NO_COLOR removed: build.sh itself must notice that its output is redirected
    Task<PgigProcess.Result> BuildSh(params string[] args) =>
        PgigProcess.RunProgramAsync(Path.Combine(_root, "build.sh"), _root, new Dictionary<string, string?> { ["NO_COLOR"] = null }, args);

    static void NoColourCodes(PgigProcess.Result r) => Assert.False(r.All.Contains('\u001b'), "ANSI escape codes in redirected output:\n" + r.All);

    string SmallConfig()
    {
        var path = Path.Combine(_dir, "small.yaml");
        File.WriteAllText(path, $"""
            track: fashion-mnist
            val_size: 20
            batch_size: 10
            cache_dir: {Path.Combine(_dir, "cache")}
            results_dir: {Path.Combine(_dir, "results")}
            methods: [vanilla_grad, pattern_vanilla_grad]
            """);
        return path;
    }

    [Fact]
    public async Task Unknown_options_are_rejected_with_did_you_mean_and_the_valid_ones()
    {
        var r = await BuildSh("--valsize=5", "--bogus");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown options --valsize (did you mean --val-size?), --bogus.", r.All);
        Assert.Contains("Valid options: --target, --config, --val-size, --methods", r.All);
        Assert.DoesNotContain("Building pgig", r.All);
        NoColourCodes(r);
    }

    [Fact]
    public async Task Help_shows_this_builds_targets_options_and_examples()
    {
        foreach (var flag in new[] { "--help", "-h" })
        {
            var r = await BuildSh(flag);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("Usage: ./build.sh [--target=<target>] [options]", r.Stdout);
            Assert.Contains("Attribute    attribution maps of every configured method; Attribute:<method> for one", r.Stdout);
            Assert.Contains("--val-size=N", r.Stdout);
            Assert.Contains("Examples:", r.Stdout);
            Assert.Contains("./pgig --help", r.Stdout);
        }
    }

    [Fact]
    public async Task An_unknown_target_lists_the_valid_ones()
    {
        var r = await BuildSh("--target=Nonexistent");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown target 'Nonexistent'. Valid targets: Plots, Fetch, Data, Train, Patterns, Preprocess, Predict, Attribute, Degrade, Sanity, Status, Clean, Test, Build, Attribute:<method>, Degrade:<method> and Sanity:<method>", r.All);
        NoColourCodes(r);
    }

    [Fact]
    public async Task Target_names_are_case_insensitive_and_require_cached_gives_a_reason()
    {
        Pipeline.PipelineHarness.RequireFashionData();
        string cfg = SmallConfig();
        // lower case still plans: Fetch has nothing to do and is skipped, so Data is the first stage that would run
        var r = await BuildSh("--target=plots", $"--config={cfg}", "--require-cached");
        Assert.Equal(1, r.ExitCode); // Cake exits 1 when a task fails
        Assert.Contains("Data would be recomputed (missing, 0 of 1 units cached: not computed yet (1 unit)), but --require-cached was given", r.All);
        Assert.DoesNotContain("()", r.All);
        // per-method tasks exist under any spelling of the method
        r = await BuildSh("--target=degrade:PATTERN_VANILLA_GRAD", $"--config={cfg}", "--require-cached");
        Assert.Equal(1, r.ExitCode); // Cake exits 1 when a task fails
        Assert.Contains("Data would be recomputed (", r.All);
        NoColourCodes(r);
    }

    [Fact]
    public async Task A_failing_pgig_command_is_named_with_its_config()
    {
        string cfg = Path.Combine(_dir, "broken.yaml");
        File.WriteAllText(cfg, "track: fashion-mnist\nmethods: [vanilla_grad\nval_size: 20\n");
        var r = await BuildSh("--target=Status", $"--config={cfg}");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"pgig: error: {cfg}:2:10: invalid YAML: the list opened with '[' here is not closed", r.All);
        Assert.Contains($"`./pgig status --config {cfg}` failed (exit 1)", r.All);
        NoColourCodes(r);
    }

    [Fact]
    public async Task Worker_mode_runs_one_pgig_worker_command_and_only_for_pipeline_targets()
    {
        Pipeline.PipelineHarness.RequireFashionData();
        string cfg = SmallConfig();
        // --require-cached stops the worker before it computes anything, which shows the command Cake ran
        var r = await BuildSh("--worker=1/2", $"--config={cfg}", "--require-cached");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("the Data stage would be computed", r.All);
        Assert.Contains($"`./pgig run Plots --worker 1/2 --require-cached --config {cfg}` failed (exit 4)", r.All);
        r = await BuildSh("--worker=0/2", "--target=Test");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--worker applies to the pipeline targets", r.All);
        NoColourCodes(r);
    }

    [Fact]
    public async Task The_pgig_wrapper_at_the_repository_root_runs_the_command()
    {
        var r = await PgigProcess.RunProgramAsync(Path.Combine(_root, "pgig"), _dir, null, "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("pgig [command] [options]", r.Stdout);
        Assert.Contains("--debug", r.Stdout);
    }
}
