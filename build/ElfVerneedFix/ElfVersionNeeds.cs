using System.Buffers.Binary;
using System.Text;

namespace PgIg.Build;

/// <summary>One required symbol version (an ELF Vernaux entry) of a shared library.</summary>
public sealed record VersionNeed(string File, string Version, ushort Flags, ushort Index, long FlagsOffset)
{
    public const ushort WeakFlag = 0x2; // VER_FLG_WEAK
    public bool IsWeak => (Flags & WeakFlag) != 0;
}

/// <summary>
/// Minimal ELF64 little-endian reader for the dynamic-versioning sections (.gnu.version_r,
/// .gnu.version, .dynsym). Only what is needed to mark a missing version need as weak.
/// </summary>
public sealed class ElfVersionNeeds
{
    const uint ShtDynsym = 11, ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;

    readonly byte[] _image;
    readonly List<Section> _sections = new();

    public IReadOnlyList<VersionNeed> Needs { get; }
    /// <summary>Version names this library defines (.gnu.version_d), e.g. GLIBCXX_3.4.30 for libstdc++.</summary>
    public IReadOnlySet<string> Definitions { get; }

    record struct Section(uint Type, long Offset, long Size, uint Link, uint Info, long EntSize);

    public ElfVersionNeeds(byte[] image)
    {
        _image = image;
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (image[4] != 2 || image[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        long shoff = (long)U64(0x28);
        int shentsize = U16(0x3A), shnum = U16(0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long o = shoff + (long)i * shentsize;
            _sections.Add(new Section(U32(o + 4), (long)U64(o + 24), (long)U64(o + 32), U32(o + 40), U32(o + 44), (long)U64(o + 56)));
        }
        Needs = ReadNeeds();
        Definitions = ReadDefinitions();
    }

    ushort U16(long o) => BinaryPrimitives.ReadUInt16LittleEndian(_image.AsSpan((int)o));
    uint U32(long o) => BinaryPrimitives.ReadUInt32LittleEndian(_image.AsSpan((int)o));
    ulong U64(long o) => BinaryPrimitives.ReadUInt64LittleEndian(_image.AsSpan((int)o));

    string Str(Section strtab, uint offset)
    {
        int start = (int)(strtab.Offset + offset), end = start;
        while (_image[end] != 0) end++;
        return Encoding.ASCII.GetString(_image, start, end - start);
    }

    List<VersionNeed> ReadNeeds()
    {
        var list = new List<VersionNeed>();
        foreach (var sec in _sections.Where(s => s.Type == ShtGnuVerneed))
        {
            var strtab = _sections[(int)sec.Link];
            long vn = sec.Offset;
            for (uint e = 0; e < sec.Info; e++)
            {
                ushort cnt = U16(vn + 2);
                string file = Str(strtab, U32(vn + 4));
                long aux = vn + U32(vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    list.Add(new VersionNeed(file, Str(strtab, U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux + 4));
                    aux += U32(aux + 12);
                }
                uint next = U32(vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        return list;
    }

    HashSet<string> ReadDefinitions()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sec in _sections.Where(s => s.Type == ShtGnuVerdef))
        {
            var strtab = _sections[(int)sec.Link];
            long vd = sec.Offset;
            for (uint e = 0; e < sec.Info; e++)
            {
                long aux = vd + U32(vd + 12);
                set.Add(Str(strtab, U32(aux)));
                uint next = U32(vd + 16);
                if (next == 0) break;
                vd += next;
            }
        }
        return set;
    }

    /// <summary>Names of the dynamic symbols bound to the given version index.</summary>
    public IReadOnlyList<string> SymbolsOfVersion(ushort versionIndex)
    {
        var dynsym = _sections.First(s => s.Type == ShtDynsym);
        var versym = _sections.First(s => s.Type == ShtGnuVersym);
        var strtab = _sections[(int)dynsym.Link];
        long count = dynsym.Size / dynsym.EntSize;
        var names = new List<string>();
        for (long i = 0; i < count; i++)
        {
            if ((U16(versym.Offset + 2 * i) & 0x7fff) != versionIndex) continue;
            names.Add(Str(strtab, U32(dynsym.Offset + i * dynsym.EntSize)));
        }
        return names;
    }

    /// <summary>Sets VER_FLG_WEAK on one need, in the in-memory image.</summary>
    public void MarkWeak(VersionNeed need)
    {
        ushort flags = (ushort)(U16(need.FlagsOffset) | VersionNeed.WeakFlag);
        BinaryPrimitives.WriteUInt16LittleEndian(_image.AsSpan((int)need.FlagsOffset), flags);
    }

    public byte[] Image => _image;
}
