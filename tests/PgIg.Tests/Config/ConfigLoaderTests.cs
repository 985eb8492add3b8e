using PgIg.Config;
using Xunit;

namespace PgIg.Tests.Config;

public class ConfigLoaderTests
{
    static PipelineConfig Parse(string yaml, ConfigOverrides? o = null) => ConfigLoader.Parse(yaml, "test.yaml", o);

    static string Error(string yaml) => Assert.Throws<ConfigException>(() => Parse(yaml)).Message;

    [Fact]
    public void Shorthand_pattern_prefix_means_pattern_rule_with_original_defaults()
    {
        var c = Parse("track: fashion-mnist\nmethods: [pattern_integrate_grad, smooth_grad, random]\n");
        var pgig = c.Methods[0];
        Assert.Equal(("pattern_integrate_grad", "integrate_grad", "pattern"), (pgig.Name, pgig.Kind, pgig.Rule));
        Assert.Equal(25, pgig.Int("steps"));
        Assert.Equal(0.15, c.Methods[1].Double("stdev_spread"));
        Assert.Equal(25, c.Methods[1].Int("n_samples"));
        Assert.Equal("gradient", c.Methods[2].Rule);
    }

    [Fact]
    public void Mapping_entries_combine_any_method_with_any_rule()
    {
        var c = Parse("""
            track: fashion-mnist
            batch_size: 60
            val_size: 960
            methods:
              - {method: exp_grad, rule: pattern}
              - {name: ig50, method: integrate_grad, params: {steps: 50}}
              - pattern_smooth_grad
            """);
        Assert.Equal(("pattern_exp_grad", "exp_grad", "pattern"), (c.Methods[0].Name, c.Methods[0].Kind, c.Methods[0].Rule));
        Assert.Equal(49, c.Methods[0].Int("n_samples"));
        Assert.Equal(50, c.Methods[1].Int("steps"));
        Assert.Equal(("smooth_grad", "pattern"), (c.Methods[2].Kind, c.Methods[2].Rule));
    }

    [Fact]
    public void Unknown_key_names_line_column_and_the_valid_fields()
    {
        var msg = Error("track: fashion-mnist\nval_sise: 10\nmethods: [vanilla_grad]\n");
        Assert.StartsWith("test.yaml:2:1:", msg);
        Assert.Contains("unknown field 'val_sise'", msg);
        Assert.Contains("val_size", msg);
    }

    [Fact]
    public void Nested_unknown_key_and_wrong_type_are_reported_with_their_path()
    {
        Assert.Contains("unknown field 'degrade.patchsize'", Error("track: fashion-mnist\ndegrade:\n  patchsize: 4\nmethods: [vanilla_grad]\n"));
        var msg = Error("track: fashion-mnist\ndegrade:\n  patch_size: four\nmethods: [vanilla_grad]\n");
        Assert.StartsWith("test.yaml:3:15:", msg);
        Assert.Contains("'degrade.patch_size' must be an integer, got 'four'", msg);
    }

    [Fact]
    public void Unknown_method_lists_the_valid_choices()
    {
        var msg = Error("track: fashion-mnist\nmethods:\n  - integrated_gradients\n");
        Assert.StartsWith("test.yaml:3:5:", msg);
        Assert.Contains("unknown method 'integrated_gradients'", msg);
        Assert.Contains("pattern_integrate_grad", msg);
        Assert.Contains("exp_grad", msg);
    }

    [Fact]
    public void Unknown_parameter_and_choice_errors_list_the_options()
    {
        Assert.Contains("its parameters: steps (int, default 25)", Error("track: fashion-mnist\nmethods:\n  - {method: integrate_grad, params: {step: 5}}\n"));
        Assert.Contains("valid choices: faithful, corrected", Error("track: fashion-mnist\nprotocol: exact\nmethods: [vanilla_grad]\n"));
        Assert.Contains("valid choices: gradient, pattern, patternnet", Error("track: fashion-mnist\nmethods:\n  - {method: vanilla_grad, rule: lrp}\n"));
        Assert.Contains("must be a positive integer", Error("track: fashion-mnist\nmethods:\n  - {method: integrate_grad, params: {steps: -3}}\n"));
    }

    [Fact]
    public void Protocol_sets_quirk_defaults_and_each_quirk_can_be_switched()
    {
        var faithful = Parse("track: fashion-mnist\nmethods: [vanilla_grad]\n").Quirks;
        Assert.Equal(Quirks.Faithful, faithful);
        var corrected = Parse("track: fashion-mnist\nprotocol: corrected\nmethods: [vanilla_grad]\n").Quirks;
        Assert.Equal(Quirks.Corrected, corrected);
        var mixed = Parse("track: fashion-mnist\nprotocol: corrected\nquirks:\n  skip_top_patch: true\nmethods: [vanilla_grad]\n").Quirks;
        Assert.True(mixed.SkipTopPatch);
        Assert.False(mixed.PositiveOnlyReplacement);
        Assert.Contains("valid quirks: skip_top_patch (B1)", Error("track: fashion-mnist\nquirks:\n  skip_top: true\nmethods: [vanilla_grad]\n"));
        // every number-changing quirk of the spec has a switch
        Assert.Equal(new[] { "B1", "B2", "B3", "B4", "B5", "B7", "B8", "B9", "B17", "B22" }, Quirks.Switches.Select(s => s.Bug));
    }

    [Fact]
    public void Typos_get_a_did_you_mean()
    {
        Assert.Contains("unknown field 'val_sise' (did you mean 'val_size'?)", Error("track: fashion-mnist\nval_sise: 10\nmethods: [vanilla_grad]\n"));
        Assert.Contains("unknown method 'integrated_grad' (did you mean 'integrate_grad'?)", Error("track: fashion-mnist\nmethods: [integrated_grad]\n"));
        Assert.Contains("(did you mean 'skip_top_patch'?)", Error("track: fashion-mnist\nquirks: {skip_top_pacth: false}\nmethods: [vanilla_grad]\n"));
        Assert.DoesNotContain("did you mean", Error("track: fashion-mnist\nmethods: [lime]\n")); // nothing close
        Assert.Equal(1, Suggest.Distance("pacth", "patch"));
    }

    [Fact]
    public void Orders_need_a_ranked_order_and_no_repeats()
    {
        Assert.Contains("needs morf, lerf or insertion", Error("track: fashion-mnist\ndegrade: {orders: [random]}\nmethods: [vanilla_grad]\n"));
        Assert.Contains("lists an order twice", Error("track: fashion-mnist\ndegrade: {orders: [morf, morf]}\nmethods: [vanilla_grad]\n"));
        Assert.Equal(["lerf", "random"], Parse("track: fashion-mnist\ndegrade: {orders: [lerf, random]}\nmethods: [vanilla_grad]\n").Degrade.Orders);
        Assert.Equal(["insertion", "random"], Parse("track: fashion-mnist\ndegrade: {orders: [insertion, random]}\nmethods: [vanilla_grad]\n").Degrade.Orders);
        Assert.Contains("did you mean 'insertion'", Error("track: fashion-mnist\ndegrade: {orders: [insertoin]}\nmethods: [vanilla_grad]\n"));
    }

    [Fact]
    public void Faithful_exp_grad_needs_a_batch_larger_than_its_samples()
    {
        Assert.Contains("needs batch_size > 49", Error("track: fashion-mnist\nbatch_size: 40\nmethods: [exp_grad]\n"));
        Assert.StartsWith("test.yaml:2:13:", Error("track: fashion-mnist\nbatch_size: 40\nmethods: [exp_grad]\n"));
        // a short last batch (val_size not a multiple of batch_size) fails before anything runs, not in the last shard
        var tail = Error("track: fashion-mnist\nval_size: 130\nbatch_size: 50\nmethods: [exp_grad]\n");
        Assert.Contains("val_size 130 leaves a last batch of 30 images", tail);
        Assert.Contains("e.g. 100 or 150", tail);
        var overridden = Assert.Throws<ConfigException>(() => Parse("track: fashion-mnist\nbatch_size: 50\nmethods: [exp_grad]\n", new ConfigOverrides { ValSize = 30 })).Message;
        Assert.Contains("val_size 30 (--val-size) leaves a last batch of 30 images", overridden);
        Parse("track: fashion-mnist\nval_size: 150\nbatch_size: 50\nmethods: [exp_grad]\n");
        Parse("track: fashion-mnist\nval_size: 110\nbatch_size: 60\nshard_size: 60\nmethods: [exp_grad]\n"); // last batch of 50 > 49
        Parse("track: fashion-mnist\nbatch_size: 40\nquirks: {exp_grad_batch_baselines: false}\nmethods: [exp_grad]\n");
    }

    [Fact]
    public void Overrides_apply_and_unknown_method_overrides_are_rejected()
    {
        var c = Parse("track: fashion-mnist\nval_size: 100\ncache_dir: c\ndata: {imagenet_key: k}\nmethods: [vanilla_grad, integrate_grad]\n",
            new ConfigOverrides(ValSize: 7, Methods: ["integrate_grad"], CacheDir: "/tmp/x", ImageNetKey: "cli"));
        Assert.Equal("cli", c.Data.ImageNetKey);
        Assert.Equal(7, c.ValSize);
        Assert.Equal("/tmp/x", c.CacheDir);
        Assert.Equal("integrate_grad", Assert.Single(c.Methods).Name);
        var e = Assert.Throws<ConfigException>(() => Parse("track: fashion-mnist\nmethods: [vanilla_grad]\n", new ConfigOverrides(Methods: ["sg_ig"])));
        Assert.Contains("configured methods: vanilla_grad", e.Message);
    }

    [Fact]
    public void Duplicate_names_shard_size_and_missing_methods_are_errors()
    {
        Assert.Contains("appears twice", Error("track: fashion-mnist\nmethods: [vanilla_grad, vanilla_grad]\n"));
        Assert.Contains("multiple of batch_size", Error("track: fashion-mnist\nbatch_size: 10\nshard_size: 15\nmethods: [vanilla_grad]\n"));
        Assert.StartsWith("test.yaml:3:13:", Error("track: fashion-mnist\nbatch_size: 10\nshard_size: 15\nmethods: [vanilla_grad]\n")); // points at shard_size
        Assert.Contains("'methods' is missing", Error("track: fashion-mnist\n"));
        Assert.Contains("invalid YAML", Error("track: [fashion\n"));
    }

    [Fact]
    public void Shipped_configs_are_valid()
    {
        string root = RepoRoot();
        foreach (var f in Directory.GetFiles(Path.Combine(root, "config"), "*.yaml").Append(Path.Combine(root, "pipeline.yaml")).Where(File.Exists))
            ConfigLoader.Load(f);
    }

    internal static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "PgIg.sln"))) d = d.Parent;
        return d?.FullName ?? throw new DirectoryNotFoundException("repository root (PgIg.sln) not found above the test binaries");
    }
}
