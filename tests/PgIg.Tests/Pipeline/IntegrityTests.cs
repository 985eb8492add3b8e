using PgIg.Pipeline;
using Xunit;

namespace PgIg.Tests.Pipeline;

/// <summary>A damaged artifact is never used: reads verify the manifest's hashes, `pgig verify` finds it, a run recomputes it.</summary>
public sealed class IntegrityTests : IDisposable
{
    readonly PipelineHarness _h = new();

    public void Dispose() => _h.Dispose();

    string Yaml => _h.Yaml("  - vanilla_grad");
    string Config => Path.Combine(_h.Dir, "config.yaml");

    /// <summary>The pgig command in its own process (stdout and stderr together), as a user runs it.</summary>
    static (int Code, string Out) Cli(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pgig.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

    static void FlipByteKeepingMtime(string file)
    {
        var mtime = File.GetLastWriteTimeUtc(file);
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(file, bytes);
        File.SetLastWriteTimeUtc(file, mtime);
    }

    [Fact]
    public async Task A_flipped_byte_with_its_mtime_restored_is_found_refused_on_read_and_recomputed()
    {
        await _h.RunAsync(Yaml);
        var plan = _h.Plan(Yaml);
        var key = plan.Get("Attribute:vanilla_grad").Units[1].Key;
        var maps = Path.Combine(plan.Cache.DirectoryOf(key), "maps.parquet");
        FlipByteKeepingMtime(maps);

        var (code, output) = Cli("verify", "--config", Config);
        Assert.Equal(5, code);
        Assert.Contains($"damaged: {key.Slot}", output);
        Assert.Contains("1 damaged", output);
        Assert.NotEqual(Freshness.Fresh, _h.Plan(Yaml).Status(verifyContent: true).Single(s => s.Stage == "Attribute:vanilla_grad").State);

        // a read never returns the damaged values: export names the file and what to do
        (code, output) = Cli("export", "--config", Config, "--out", Path.Combine(_h.Dir, "export"));
        Assert.NotEqual(0, code);
        Assert.Contains("maps.parquet does not match the SHA-256 its manifest records", output);
        Assert.DoesNotContain("   at ", output); // one message, no stack trace

        // a run recomputes exactly the damaged unit (and what reads it) and verification passes again
        var log = await _h.RunAsync(Yaml);
        Assert.Contains(key.Slot, PipelineHarness.Computed(log));
        Assert.Equal(0, Cli("verify", "--config", Config).Code);
    }

    [Fact]
    public async Task An_edited_manifest_is_not_a_cache_hit()
    {
        await _h.RunAsync(Yaml, "Preprocess");
        var plan = _h.Plan(Yaml);
        var key = plan.Get("Preprocess").Units[0].Key;
        var manifest = Path.Combine(plan.Cache.DirectoryOf(key), Manifest.FileName);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"rows\": 10", "\"rows\": 11"));
        var check = plan.Cache.Check(key, verifyContent: false);
        Assert.Equal(CacheStatus.Invalid, check.Status);
        Assert.Contains("edited after publication", check.Reason);
        Assert.Throws<ArtifactDamagedException>(() => ArtifactFiles.Verify(Path.Combine(plan.Cache.DirectoryOf(key), "images.parquet")));
    }
}
