using PgIg.Pipeline;
using Xunit;

namespace PgIg.Tests.Pipeline;

/// <summary>Clean and publication never touch what they do not own: foreign folders, running jobs' files.</summary>
public sealed class CacheSafetyTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-safety-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static StageKey Key(string slot) => new("attribute", slot, new CodeId("test-v1", "test"), new { slot }, []);

    [Fact]
    public void Clean_all_refuses_a_folder_that_is_not_a_cache()
    {
        string notCache = Path.Combine(_dir, "precious");
        Directory.CreateDirectory(Path.Combine(notCache, "sub"));
        File.WriteAllText(Path.Combine(notCache, "notes.txt"), "important");
        var e = Assert.Throws<InvalidOperationException>(() => CacheCleaner.RemoveAll(notCache));
        Assert.Contains("does not look like a pgig cache (it holds notes.txt, sub)", e.Message);
        Assert.True(File.Exists(Path.Combine(notCache, "notes.txt")));
    }

    [Fact]
    public async Task The_cache_recognises_stage_directories_by_shape_not_by_stage_name()
    {
        // a stage added later ("evaluate") needs no change to the cache: its directory holds keyed artifacts
        string root = Path.Combine(_dir, "cache");
        var cache = new ArtifactCache(root);
        await cache.GetOrComputeAsync(new StageKey("evaluate", "evaluate", new CodeId("test-v1", "test"), new { }, []), w => { File.WriteAllText(w.PathOf("x.txt"), "x"); w.RegisterFile("x.txt"); return Task.CompletedTask; });
        Assert.Equal(1, CacheCleaner.RemoveAll(root));
        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public async Task Clean_keeps_what_a_running_job_leases_and_clean_all_waits_for_it()
    {
        // a run of config A holds a lease on its artifacts; `pgig clean` with config B (which references none of
        // them) must not delete them under it
        string root = Path.Combine(_dir, "cache");
        var cache = new ArtifactCache(root);
        foreach (var slot in new[] { "a", "b" })
            await cache.GetOrComputeAsync(Key(slot), w => { File.WriteAllText(w.PathOf("x.txt"), slot); w.RegisterFile("x.txt"); return Task.CompletedTask; });
        using (RunLease.Acquire(cache, [Key("a")]))
        {
            var (kept, removed, _, _) = CacheCleaner.RemoveUnreferenced(cache, []);
            Assert.Equal((1, 1), (kept, removed));
            Assert.True(Directory.Exists(cache.DirectoryOf(Key("a"))));
            Assert.Contains("a running pgig process is using it", Assert.Throws<InvalidOperationException>(() => CacheCleaner.RemoveAll(root)).Message);
        }
        Assert.Equal((0, 1), CacheCleaner.RemoveUnreferenced(cache, []) is var r ? (r.Kept, r.Removed) : default);
        Assert.Equal(0, CacheCleaner.RemoveAll(root));
    }

    [Fact]
    public async Task Clean_all_refuses_while_a_job_holds_a_lock_and_removes_a_real_cache_otherwise()
    {
        string root = Path.Combine(_dir, "cache");
        var cache = new ArtifactCache(root);
        await cache.GetOrComputeAsync(Key("a"), w => { File.WriteAllText(w.PathOf("x.txt"), "x"); w.RegisterFile("x.txt"); return Task.CompletedTask; });
        using (FileLock.Acquire(ArtifactCache.LockPath(Path.Combine(root, "attribute"), Key("b").Hash), TimeSpan.Zero))
            Assert.Contains("a pgig process is computing in it", Assert.Throws<InvalidOperationException>(() => CacheCleaner.RemoveAll(root)).Message);
        Assert.Equal(1, CacheCleaner.RemoveAll(root));
        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public void Clean_skips_a_temporary_directory_whose_job_is_running_and_removes_a_dead_ones()
    {
        string stageDir = Path.Combine(_dir, "cache", "attribute");
        var live = Key("live").Hash;
        var dead = Key("dead").Hash;
        string liveTmp = Path.Combine(stageDir, ArtifactCache.TmpPrefix(live) + "123-abc");
        string deadTmp = Path.Combine(stageDir, ArtifactCache.TmpPrefix(dead) + "456-def");
        Directory.CreateDirectory(liveTmp);
        Directory.CreateDirectory(deadTmp);
        using (FileLock.Acquire(ArtifactCache.LockPath(stageDir, live), TimeSpan.Zero))
        {
            File.Create(ArtifactCache.LockPath(stageDir, dead)).Dispose(); // a lock file nobody holds any more
            Assert.Equal(1, CacheCleaner.Leftovers(Path.Combine(_dir, "cache"))); // the dead one only
            var (_, removed, _, inUse) = CacheCleaner.RemoveUnreferenced(Path.Combine(_dir, "cache"), new HashSet<string>());
            Assert.Equal((1, 1), (removed, inUse));
        }
        Assert.True(Directory.Exists(liveTmp));
        Assert.False(Directory.Exists(deadTmp));
    }

    [Fact]
    public async Task Computing_a_key_removes_what_an_interrupted_run_left_for_it()
    {
        string root = Path.Combine(_dir, "cache");
        var key = Key("k");
        string leftover = Path.Combine(root, "attribute", ArtifactCache.TmpPrefix(key.Hash) + "999-0123");
        Directory.CreateDirectory(leftover);
        File.WriteAllText(Path.Combine(leftover, "maps.parquet"), "half written");
        var messages = new List<string>();
        var (_, computed) = await new ArtifactCache(root).GetOrComputeAsync(key,
            w => { File.WriteAllText(w.PathOf("x.txt"), "x"); w.RegisterFile("x.txt"); return Task.CompletedTask; }, messages.Add);
        Assert.True(computed);
        Assert.False(Directory.Exists(leftover));
        Assert.Contains(messages, m => m.Contains("left by an interrupted run"));
        Assert.Empty(Directory.GetDirectories(Path.Combine(root, "attribute"), ".tmp-*"));
    }
}
