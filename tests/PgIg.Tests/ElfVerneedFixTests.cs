using PgIg.Build;
using Xunit;

namespace PgIg.Tests;

public class ElfVerneedFixTests
{
    static string TorchSharpNative() =>
        Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    static string NugetOriginal()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                      ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void Old_libstdcxx_gets_only_the_marker_version_weakened()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(NugetOriginal())) return; // Linux-only artefact
        var elf = new ElfVersionNeeds(File.ReadAllBytes(NugetOriginal()));
        var need = Assert.Single(elf.Needs, n => n.Version == "GLIBCXX_3.4.32");
        Assert.False(need.IsWeak);
        Assert.Equal(new[] { "_ZSt21ios_base_library_initv" }, elf.SymbolsOfVersion(need.Index));

        // A Debian 12 libstdc++ stops at 3.4.30.
        var debian12 = Enumerable.Range(0, 31).Select(i => $"GLIBCXX_3.4.{i}").Append("GLIBCXX_3.4")
            .Concat(Enumerable.Range(0, 14).Select(i => $"CXXABI_1.3.{i}")).Append("CXXABI_1.3").ToHashSet();
        var (outcome, _) = VerneedFixer.Fix(elf, debian12);
        Assert.Equal(FixOutcome.Patched, outcome);

        var reread = new ElfVersionNeeds(elf.Image);
        Assert.All(reread.Needs, n => Assert.Equal(n.Version == "GLIBCXX_3.4.32", n.IsWeak));
        Assert.Equal(FixOutcome.AlreadyPatched, VerneedFixer.Fix(reread, debian12).Outcome);
    }

    [Fact]
    public void New_enough_libstdcxx_changes_nothing()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(NugetOriginal())) return;
        byte[] original = File.ReadAllBytes(NugetOriginal());
        var elf = new ElfVersionNeeds((byte[])original.Clone());
        var all = elf.Needs.Select(n => n.Version).ToHashSet();
        Assert.Equal(FixOutcome.NothingToDo, VerneedFixer.Fix(elf, all).Outcome);
        Assert.Equal(original, elf.Image);
    }

    [Fact]
    public void A_missing_version_used_by_real_symbols_is_refused()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(NugetOriginal())) return;
        var elf = new ElfVersionNeeds(File.ReadAllBytes(NugetOriginal()));
        var onlyOld = new HashSet<string> { "GLIBCXX_3.4" }; // lacks 3.4.30 etc., which real symbols use
        var ex = Assert.Throws<InvalidOperationException>(() => VerneedFixer.Fix(elf, onlyOld));
        Assert.Contains("GLIBCXX_3.4.", ex.Message);
    }

    [Fact]
    public void Build_output_copy_loads_on_this_system()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(File.Exists(TorchSharpNative()));
        string? system = VerneedFixer.FindSystemLibStdCxx();
        Assert.NotNull(system);
        var sys = new ElfVersionNeeds(File.ReadAllBytes(system!)).Definitions;
        var output = new ElfVersionNeeds(File.ReadAllBytes(TorchSharpNative()));
        // every libstdc++ version the output copy still hard-requires is present on this system
        Assert.All(output.Needs.Where(n => n.File == "libstdc++.so.6" && !n.IsWeak), n => Assert.Contains(n.Version, sys));
        using var t = TorchSharp.torch.ones(2, 2);
        Assert.Equal(4f, t.sum().item<float>());
    }
}
