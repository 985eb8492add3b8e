using System.Formats.Tar;
using System.IO.Compression;

namespace PgIg.Data.ImageNet;

/// <summary>
/// Extracts .tar / .tar.gz archives (the ImageNet val tar and devkit) without letting an entry write
/// outside the destination.
/// </summary>
/// <remarks>
/// Refused (InvalidDataException naming archive and entry): absolute names, names with a ".." component,
/// symbolic links whose target is absolute or resolves outside the destination, hard links to anything but
/// an already extracted regular file inside it, device/FIFO entries, and any write or link resolution that
/// would pass through a symbolic link already on disk (conservative: it also refuses links that stay inside,
/// which dataset archives never use). Backslashes count as separators in these checks. Entries already
/// extracted when a refusal happens stay on disk.
/// </remarks>
public static class SafeTarExtractor
{
    /// <summary>Extracts <paramref name="tarPath"/> (gzip detected by its magic bytes) into <paramref name="destDir"/>.</summary>
    /// <returns>The number of files and links written.</returns>
    public static int Extract(string tarPath, string destDir, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(tarPath);
        ArgumentNullException.ThrowIfNull(destDir);
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destDir));
        Directory.CreateDirectory(root);

        using var file = File.OpenRead(tarPath);
        Stream stream = file;
        if (IsGzip(file)) stream = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
        using (stream)
        {
            using var reader = new TarReader(stream);
            int written = 0;
            while (reader.GetNextEntry() is { } entry)
            {
                if (!ExtractEntry(entry, root, tarPath)) continue;
                written++;
                progress?.Report(written);
            }
            return written;
        }
    }

    static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
    }

    static bool ExtractEntry(TarEntry entry, string root, string tarPath)
    {
        InvalidDataException Unsafe(string why) => new($"unsafe entry '{entry.Name}' in {tarPath}: {why}");

        switch (entry.EntryType)
        {
            case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes or TarEntryType.LongLink or TarEntryType.LongPath:
                return false; // metadata; TarReader already applied it to the following entry
            case TarEntryType.BlockDevice or TarEntryType.CharacterDevice or TarEntryType.Fifo:
                throw Unsafe($"{entry.EntryType} entries are not extracted");
        }

        var parts = Components(entry.Name, Unsafe);
        if (parts.Count == 0) return false; // "./" — the destination itself
        string path = Path.Join([root, .. parts]);
        EnsureNoSymlinkOnTheWay(root, parts, Unsafe);

        switch (entry.EntryType)
        {
            case TarEntryType.Directory or TarEntryType.DirectoryList:
                Directory.CreateDirectory(path);
                return false;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var output = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
                entry.DataStream?.CopyTo(output);
                return true;
            }
            case TarEntryType.SymbolicLink:
            {
                string target = entry.LinkName;
                if (target.Length == 0 || IsAbsolute(target)) throw Unsafe($"symbolic link to absolute or empty target '{target}'");
                // Resolve against the link's own folder, one component at a time, as the OS would.
                var resolved = new List<string>(parts.Take(parts.Count - 1));
                foreach (var c in target.Split('/', '\\'))
                {
                    if (c is "" or ".") continue;
                    if (c == "..")
                    {
                        if (resolved.Count == 0) throw Unsafe($"symbolic link target '{target}' points outside the destination");
                        resolved.RemoveAt(resolved.Count - 1);
                        continue;
                    }
                    resolved.Add(c);
                    if (IsSymlink(Path.Join([root, .. resolved])))
                        throw Unsafe($"symbolic link target '{target}' goes through another link");
                }
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                if (File.Exists(path)) File.Delete(path);
                File.CreateSymbolicLink(path, target);
                return true;
            }
            case TarEntryType.HardLink:
            {
                // Hard-link names are archive-relative; copying keeps us independent of filesystem support.
                var targetParts = Components(entry.LinkName, why => Unsafe($"hard link target: {why}"));
                EnsureNoSymlinkOnTheWay(root, targetParts, why => Unsafe($"hard link target: {why}"));
                string source = Path.Join([root, .. targetParts]);
                if (targetParts.Count == 0 || !File.Exists(source))
                    throw Unsafe($"hard link to '{entry.LinkName}', which is not an extracted file");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.Copy(source, path, overwrite: true);
                return true;
            }
            default:
                throw Unsafe($"{entry.EntryType} entries are not supported");
        }
    }

    static bool IsAbsolute(string name) =>
        name.StartsWith('/') || name.StartsWith('\\') || Path.IsPathRooted(name) || (name.Length >= 2 && name[1] == ':');

    static List<string> Components(string name, Func<string, InvalidDataException> unsafeEntry)
    {
        if (IsAbsolute(name)) throw unsafeEntry("absolute path");
        var parts = new List<string>();
        foreach (var c in name.Split('/', '\\'))
        {
            if (c is "" or ".") continue;
            if (c == "..") throw unsafeEntry("'..' path component");
            if (c.Contains('\0')) throw unsafeEntry("NUL in name");
            parts.Add(c);
        }
        return parts;
    }

    static void EnsureNoSymlinkOnTheWay(string root, List<string> parts, Func<string, InvalidDataException> unsafeEntry)
    {
        string current = root;
        foreach (var part in parts)
        {
            current = Path.Join(current, part);
            if (IsSymlink(current)) throw unsafeEntry($"path goes through the symbolic link {current}");
        }
    }

    // readlink-based: true for links to files or folders and for dangling links; false if nothing is there.
    static bool IsSymlink(string path) => new FileInfo(path).LinkTarget is not null;
}
