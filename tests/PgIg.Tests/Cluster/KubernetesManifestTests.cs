using PgIg.Cli;
using PgIg.Config;
using PgIg.Tests.Config;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace PgIg.Tests.Cluster;

/// <summary>
/// deploy/k8s cannot run here (no cluster, no image build): these tests read its manifests and check that each
/// container's command line is one the real pgig CLI accepts, that the worker count is the Job's completions,
/// and that the volumes, config and image entrypoint fit together.
/// </summary>
public sealed class KubernetesManifestTests
{
    static readonly string Dir = Path.Combine(ConfigLoaderTests.RepoRoot(), "deploy", "k8s");

    static List<YamlMappingNode> Documents() => Directory.GetFiles(Dir, "*.yaml").Order(StringComparer.Ordinal).SelectMany(f =>
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(f);
        stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode);
    }).ToList();

    static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (var p in path)
            node = node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(p), out var next) ? next
                : throw new KeyNotFoundException($"no '{p}' in the manifest (path {string.Join(".", path)})");
        return node;
    }

    static string Text(YamlNode node, params string[] path) => ((YamlScalarNode)At(node, path)).Value!;
    static bool Has(YamlNode node, string key) => node is YamlMappingNode m && m.Children.ContainsKey(new YamlScalarNode(key));

    static YamlMappingNode Job(Func<YamlMappingNode, bool> which) =>
        Assert.Single(Documents(), d => Text(d, "kind") == "Job" && which(d));

    static YamlMappingNode Workers => Job(d => Has(At(d, "spec"), "completionMode"));
    static YamlMappingNode Plots => Job(d => !Has(At(d, "spec"), "completionMode"));

    static YamlMappingNode Container(YamlMappingNode job) =>
        (YamlMappingNode)Assert.Single(((YamlSequenceNode)At(job, "spec", "template", "spec", "containers")).Children);

    static List<string> Args(YamlMappingNode job) => ((YamlSequenceNode)At(Container(job), "args")).Children.Select(n => ((YamlScalarNode)n).Value!).ToList();

    static string Option(IReadOnlyList<string> args, string name) => args[args.ToList().IndexOf(name) + 1];

    [Fact]
    public void Every_worker_index_runs_a_command_the_pgig_cli_accepts_with_N_equal_to_completions()
    {
        var job = Workers;
        var spec = At(job, "spec");
        Assert.Equal("Indexed", Text(spec, "completionMode"));
        int completions = int.Parse(Text(spec, "completions"));
        Assert.InRange(int.Parse(Text(spec, "parallelism")), 1, completions);
        Assert.True(int.Parse(Text(spec, "backoffLimitPerIndex")) >= 0);
        Assert.Equal("Never", Text(spec, "template", "spec", "restartPolicy")); // backoffLimitPerIndex requires it

        var args = Args(job);
        Assert.Contains("$(JOB_COMPLETION_INDEX)", Option(args, "--worker"));
        for (int i = 0; i < completions; i++)
        {
            var words = args.Select(a => a.Replace("$(JOB_COMPLETION_INDEX)", i.ToString())).ToArray();
            Assert.DoesNotContain(words, w => w.Contains("$(", StringComparison.Ordinal)); // nothing else left for Kubernetes to expand
            var parsed = PgIgCli.CreateRoot().Parse(words);
            Assert.Empty(parsed.Errors);
            Assert.Equal("run", parsed.CommandResult.Command.Name);
            Assert.Equal((i, completions), PgIgCli.ParseWorker(Option(words, "--worker")));
        }
    }

    [Fact]
    public void The_plots_job_runs_plots_alone_on_the_workers_cache_config_and_image()
    {
        var plots = Args(Plots);
        var parsed = PgIgCli.CreateRoot().Parse(plots.ToArray());
        Assert.Empty(parsed.Errors);
        Assert.Equal(["run", "Plots"], plots.Take(2));
        Assert.DoesNotContain("--worker", plots);
        var workers = Args(Workers);
        foreach (var o in new[] { "--config", "--cache-dir", "--results-dir" }) Assert.Equal(Option(workers, o), Option(plots, o));
        Assert.Equal(Text(Container(Workers), "image"), Text(Container(Plots), "image"));
    }

    [Fact]
    public void Cache_and_results_are_on_the_shared_ReadWriteMany_claim()
    {
        var pvc = Assert.Single(Documents(), d => Text(d, "kind") == "PersistentVolumeClaim");
        Assert.Contains("ReadWriteMany", ((YamlSequenceNode)At(pvc, "spec", "accessModes")).Children.Select(n => ((YamlScalarNode)n).Value));
        foreach (var job in new[] { Workers, Plots })
        {
            var volume = (YamlMappingNode)Assert.Single(((YamlSequenceNode)At(job, "spec", "template", "spec", "volumes")).Children);
            Assert.Equal(Text(pvc, "metadata", "name"), Text(volume, "persistentVolumeClaim", "claimName"));
            var mount = Assert.Single(((YamlSequenceNode)At(Container(job), "volumeMounts")).Children, m => Text(m, "name") == Text(volume, "name"));
            var mountPath = Text(mount, "mountPath").TrimEnd('/') + "/";
            var args = Args(job);
            Assert.StartsWith(mountPath, Option(args, "--cache-dir"));
            Assert.StartsWith(mountPath, Option(args, "--results-dir"));
        }
    }

    [Fact]
    public void The_config_is_one_the_image_holds_and_it_loads()
    {
        // the Dockerfile copies config/ to /app/config/ and starts pgig itself, so the Jobs give only arguments
        var dockerfile = File.ReadAllText(Path.Combine(Dir, "Dockerfile"));
        Assert.Contains("COPY config/ /app/config/", dockerfile);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/pgig.dll\"]", dockerfile);
        Assert.False(Has(Container(Workers), "command"));
        Assert.False(Has(Container(Plots), "command"));

        var config = Option(Args(Workers), "--config");
        Assert.StartsWith("/app/config/", config);
        var cfg = ConfigLoader.Load(Path.Combine(ConfigLoaderTests.RepoRoot(), "config", config["/app/config/".Length..]));
        Assert.NotEqual("cuda", cfg.Device); // the image is the CPU build
    }
}
