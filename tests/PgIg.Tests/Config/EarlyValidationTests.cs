using PgIg.Config;
using PgIg.Pipeline;
using Xunit;

namespace PgIg.Tests.Config;

/// <summary>What the config alone decides fails when it is loaded, not in Degrade after training (issue 11, item 6).</summary>
public sealed class EarlyValidationTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-early-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Error(string yaml, ConfigOverrides? o = null) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "test.yaml", o)).Message;

    [Fact]
    public void A_patch_size_that_does_not_tile_the_input_names_its_line_and_the_divisors()
    {
        var msg = Error("track: fashion-mnist\ndegrade:\n  patch_size: 5\nmethods: [vanilla_grad]\n");
        Assert.StartsWith("test.yaml:3:15:", msg);
        Assert.Contains("degrade.patch_size 5 does not tile the model's 28×28 input; use a divisor of both: 1, 2, 4, 7, 14, 28", msg);
        Assert.Contains("225×225", Error("track: image-folder\ndata: {path: /tmp}\ndegrade: {patch_size: 10}\nmethods: [vanilla_grad]\n"));
    }

    [Fact]
    public void Too_many_steps_fail_at_load_and_the_limit_follows_skip_top_patch()
    {
        var msg = Error("track: fashion-mnist\ndegrade:\n  patch_size: 4\n  n_patches: 50\nmethods: [vanilla_grad]\n");
        Assert.StartsWith("test.yaml:4:14:", msg);
        Assert.Contains("n_patches 50 exceeds the 49 steps", msg);
        // corrected: ranks 0…p−1, so the clean image plus all 49 patches
        Assert.Equal(50, ConfigLoader.Parse("track: fashion-mnist\nprotocol: corrected\ndegrade: {patch_size: 4, n_patches: 50}\nmethods: [vanilla_grad]\n", "test.yaml").Degrade.NPatches);
    }

    [Fact]
    public void Cache_and_results_directories_that_are_files_fail_at_load()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        Assert.Contains($"results_dir {file} is a file, not a directory", Error($"track: fashion-mnist\nresults_dir: {file}\nmethods: [vanilla_grad]\n"));
        Assert.Contains($"--cache-dir {file} is a file, not a directory", Error("track: fashion-mnist\nmethods: [vanilla_grad]\n", new ConfigOverrides { CacheDir = file }));
    }

    [Fact]
    public void A_cache_that_cannot_be_written_is_one_message_naming_it()
    {
        // /proc refuses new directories even to root (CI runs as root, so permissions alone would not do)
        var e = Assert.Throws<IOException>(() => new ArtifactCache("/proc/pgig-cache").EnsureWritable());
        Assert.Contains("/proc/pgig-cache is not writable", e.Message);
        Assert.Contains("set cache_dir (or --cache-dir) to a directory you can write to", e.Message);
    }
}
