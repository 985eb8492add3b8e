using System.Formats.Tar;
using System.IO.Compression;
using PgIg.Data.ImageNet;
using Xunit;

namespace PgIg.Tests.ImageNet;

public class SafeTarExtractorTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-tar-").FullName;
    string Dest => Path.Combine(_dir, "out");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    abstract record E(string Name);
    sealed record F(string Name, string Text) : E(Name);
    sealed record D(string Name) : E(Name);
    sealed record Sym(string Name, string Target) : E(Name);
    sealed record Hard(string Name, string Target) : E(Name);

    string MakeTar(string fileName, bool gzip, params E[] entries)
    {
        string path = Path.Combine(_dir, fileName);
        using var fs = File.Create(path);
        using Stream s = gzip ? new GZipStream(fs, CompressionLevel.Fastest) : fs;
        using var w = new TarWriter(s, TarEntryFormat.Pax);
        foreach (var e in entries)
        {
            PaxTarEntry entry = e switch
            {
                F f => new PaxTarEntry(TarEntryType.RegularFile, f.Name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(f.Text)) },
                D => new PaxTarEntry(TarEntryType.Directory, e.Name),
                Sym l => new PaxTarEntry(TarEntryType.SymbolicLink, l.Name) { LinkName = l.Target },
                Hard h => new PaxTarEntry(TarEntryType.HardLink, h.Name) { LinkName = h.Target },
                _ => throw new ArgumentException(e.ToString()),
            };
            w.WriteEntry(entry);
        }
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Extracts_files_folders_and_inside_links(bool gzip)
    {
        var tar = MakeTar("ok.tar" + (gzip ? ".gz" : ""), gzip,
            new D("./"), new D("ILSVRC2012_devkit_t12/"), new F("ILSVRC2012_devkit_t12/data/a.txt", "alpha"),
            new F("./top.JPEG", "jpeg bytes"), new Sym("ILSVRC2012_devkit_t12/link", "data/a.txt"),
            new Hard("copy.txt", "ILSVRC2012_devkit_t12/data/a.txt"));
        Assert.Equal(4, SafeTarExtractor.Extract(tar, Dest));
        Assert.Equal("alpha", File.ReadAllText(Path.Combine(Dest, "ILSVRC2012_devkit_t12", "data", "a.txt")));
        Assert.Equal("jpeg bytes", File.ReadAllText(Path.Combine(Dest, "top.JPEG")));
        Assert.Equal("alpha", File.ReadAllText(Path.Combine(Dest, "copy.txt")));
        var link = new FileInfo(Path.Combine(Dest, "ILSVRC2012_devkit_t12", "link"));
        Assert.Equal("data/a.txt", link.LinkTarget);
        Assert.Equal("alpha", File.ReadAllText(link.FullName));
    }

    public static TheoryData<string, string, string> Escapes => new()
    {
        { "parent", "../evil.txt", "'..'" },
        { "inner-parent", "a/../../evil.txt", "'..'" },
        { "absolute", "/tmp/pgig-evil.txt", "absolute" },
        { "backslash-parent", "a\\..\\..\\evil.txt", "'..'" },
    };

    [Theory]
    [MemberData(nameof(Escapes))]
    public void Refuses_names_that_leave_the_destination(string label, string name, string reason)
    {
        var tar = MakeTar(label + ".tar", false, new F("fine.txt", "x"), new F(name, "evil"));
        var e = Assert.Throws<InvalidDataException>(() => SafeTarExtractor.Extract(tar, Dest));
        Assert.Contains(reason, e.Message);
        Assert.Contains(name, e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "evil.txt")));
        Assert.False(File.Exists("/tmp/pgig-evil.txt"));
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("../../outside")]
    [InlineData("x/../../../outside")]
    public void Refuses_symlinks_pointing_outside(string target)
    {
        var tar = MakeTar("sym.tar", false, new D("sub/"), new Sym("sub/l", target));
        var e = Assert.Throws<InvalidDataException>(() => SafeTarExtractor.Extract(tar, Dest));
        Assert.Contains("symbolic link", e.Message);
        Assert.Null(new FileInfo(Path.Combine(Dest, "sub", "l")).LinkTarget);
    }

    [Fact]
    public void Refuses_link_chains_and_writes_through_links()
    {
        // l1 -> "." is inside, but "l1/.." would resolve through it to the destination's parent.
        var chain = MakeTar("chain.tar", false, new Sym("l1", "."), new Sym("l2", "l1/.."));
        Assert.Contains("through another link", Assert.Throws<InvalidDataException>(() => SafeTarExtractor.Extract(chain, Dest)).Message);

        var through = MakeTar("through.tar", false, new D("real/"), new Sym("lnk", "real"), new F("lnk/file.txt", "x"));
        Assert.Contains("goes through the symbolic link", Assert.Throws<InvalidDataException>(() => SafeTarExtractor.Extract(through, Path.Combine(_dir, "out2"))).Message);

        var hard = MakeTar("hard.tar", false, new Hard("h", "../../etc/passwd"));
        Assert.Throws<InvalidDataException>(() => SafeTarExtractor.Extract(hard, Path.Combine(_dir, "out3")));
        var dangling = MakeTar("hard2.tar", false, new Hard("h", "not/extracted"));
        Assert.Throws<InvalidDataException>(() => SafeTarExtractor.Extract(dangling, Path.Combine(_dir, "out4")));
    }

    [Fact]
    public void Refuses_devices()
    {
        string path = Path.Combine(_dir, "dev.tar");
        using (var fs = File.Create(path))
        using (var w = new TarWriter(fs, TarEntryFormat.Pax))
            w.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, "pipe"));
        Assert.Throws<InvalidDataException>(() => SafeTarExtractor.Extract(path, Dest));
    }
}
