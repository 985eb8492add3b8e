using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace PgIg.Formats;

/// <summary>Reads arrays from a NumPy .npz archive (a zip of .npy members, stored or deflated).
/// Not thread-safe: the archive shares one file handle.</summary>
public sealed partial class NpzReader : IDisposable
{
    readonly FileStream _file;
    readonly ZipArchive _zip;
    readonly Dictionary<string, ZipArchiveEntry> _entries = new(StringComparer.Ordinal);

    public NpzReader(string path)
    {
        Path = path;
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            _zip = new ZipArchive(_file, ZipArchiveMode.Read, leaveOpen: false);
        }
        catch (InvalidDataException e)
        {
            _file.Dispose();
            throw new NpzFormatException(DamagedMessage($"not a readable zip archive ({e.Message})"), e);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
        var keys = new List<string>();
        foreach (ZipArchiveEntry entry in _zip.Entries)
        {
            if (entry.FullName.EndsWith('/')) continue; // directory entry
            // np.load drops ".npy" from member names; other members keep their full name.
            string key = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
            if (_entries.TryAdd(key, entry)) keys.Add(key);
        }
        Keys = keys;
    }

    public string Path { get; }

    /// <summary>Member names without ".npy", in archive order.</summary>
    public IReadOnlyList<string> Keys { get; }

    public bool Contains(string key) => _entries.ContainsKey(key);

    /// <summary>Dtype, shape and order of a member without reading its data.</summary>
    public NpyHeader ReadHeader(string key) => WithMember(key, (stream, name) => NpyReader.ReadHeader(stream, name));

    public NpyArray Read(string key) => WithMember(key, (stream, name) => NpyReader.Read(stream, name));

    /// <summary>Reads a member as float32 in C order after checking its shape, so a mismatched file fails
    /// before hundreds of megabytes are decoded.</summary>
    public float[] ReadFloat32(string key, long[] expectedShape) => WithMember(key, (stream, name) =>
    {
        NpyHeader header = NpyReader.ReadHeader(stream, name);
        if (!header.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new NpzFormatException(
                $"{Path}: key '{key}' has shape {NpyHeader.FormatShape(header.Shape)}, expected {NpyHeader.FormatShape(expectedShape)}");
        return NpyReader.ReadFloat32(stream, header, name);
    });

    public void Dispose() => _zip.Dispose();

    T WithMember<T>(string key, Func<Stream, string, T> read)
    {
        var (entry, memberName) = Member(key);
        using Stream stream = Guard(entry, memberName, entry.Open);
        return Guard(entry, memberName, () => read(stream, memberName));
    }

    (ZipArchiveEntry Entry, string Name) Member(string key)
    {
        if (!_entries.TryGetValue(key, out ZipArchiveEntry? entry))
            throw new NpzFormatException($"{Path}: key '{key}' is missing (found keys: {SummarizeKeys(Keys)})");
        return (entry, $"{Path}: member '{entry.FullName}'");
    }

    /// <summary>
    /// A float32 member's values in C order as little-endian bytes, at most <paramref name="chunkBytes"/> a piece,
    /// read as they are enumerated: a stored little-endian float32 member is never held whole (a float64 or
    /// Fortran-order one is converted whole first). The shape is checked before any data is read.
    /// </summary>
    public IEnumerable<byte[]> ReadFloat32Chunks(string key, long[] expectedShape, int chunkBytes)
    {
        var (entry, memberName) = Member(key);
        using Stream stream = Guard(entry, memberName, entry.Open);
        NpyHeader header = Guard(entry, memberName, () => NpyReader.ReadHeader(stream, memberName));
        if (!header.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new NpzFormatException(
                $"{Path}: key '{key}' has shape {NpyHeader.FormatShape(header.Shape)}, expected {NpyHeader.FormatShape(expectedShape)}");
        if (!NpyReader.IsDirectFloat32(header))
        {
            float[] all = Guard(entry, memberName, () => NpyReader.ReadFloat32(stream, header, memberName));
            int per = chunkBytes / sizeof(float);
            for (long at = 0; at < all.LongLength; at += per)
                yield return PgIg.Pipeline.Float32.ToBytes(all.AsSpan((int)at, (int)Math.Min(per, all.LongLength - at)));
            yield break;
        }
        long remaining = Guard(entry, memberName, () => NpyReader.DataBytes(header, memberName));
        while (remaining > 0)
        {
            var chunk = new byte[Math.Min(chunkBytes, remaining)];
            Guard(entry, memberName, () => { NpyReader.ReadData(stream, chunk, memberName); return 0; });
            remaining -= chunk.Length;
            yield return chunk;
        }
        // the zip layer checks the CRC when the member's end is read
        Guard(entry, memberName, () => stream.Read(new byte[1]));
    }

    /// <summary>Runs a read of a member, turning the zip and npy layers' errors into <see cref="NpzFormatException"/>s.</summary>
    T Guard<T>(ZipArchiveEntry entry, string memberName, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e) when (e.Data.Contains(NpyReader.TruncatedKey))
        {
            throw new NpzFormatException(DamagedMessage(e.Message[(Path.Length + 2)..]), e);
        }
        catch (InvalidDataException e) when (e.Message.StartsWith(memberName, StringComparison.Ordinal))
        {
            throw new NpzFormatException(e.Message, e); // a well-formed file we cannot use, e.g. big-endian
        }
        catch (InvalidDataException e)
        {
            // Raised by the zip layer itself: bad local header, bad deflate stream, CRC mismatch.
            throw new NpzFormatException(DamagedMessage($"member '{entry.FullName}' cannot be decompressed ({e.Message})"), e);
        }
    }

    string DamagedMessage(string detail) =>
        $"{Path}: {detail}; the file is truncated or corrupted, delete it and re-download it";

    /// <summary>Compresses runs like A_0, A_1, …, A_6 into "A_0..A_6" so error messages stay readable.</summary>
    internal static string SummarizeKeys(IEnumerable<string> keys)
    {
        var numbered = new SortedDictionary<string, List<long>>(StringComparer.Ordinal);
        var plain = new List<string>();
        foreach (string key in keys)
        {
            Match m = NumberedKey().Match(key);
            if (m.Success && long.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n)
                && m.Groups[2].Value == n.ToString(CultureInfo.InvariantCulture))
            {
                if (!numbered.TryGetValue(m.Groups[1].Value, out List<long>? list)) numbered[m.Groups[1].Value] = list = [];
                list.Add(n);
            }
            else plain.Add(key);
        }
        var parts = new List<string>();
        foreach ((string prefix, List<long> numbers) in numbered)
        {
            numbers.Sort();
            for (int i = 0; i < numbers.Count;)
            {
                int j = i;
                while (j + 1 < numbers.Count && numbers[j + 1] == numbers[j] + 1) j++;
                if (j - i >= 2) parts.Add($"{prefix}{numbers[i]}..{prefix}{numbers[j]}");
                else for (int k = i; k <= j; k++) parts.Add($"{prefix}{numbers[k]}");
                i = j + 1;
            }
        }
        plain.Sort(StringComparer.Ordinal);
        parts.AddRange(plain);
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    [GeneratedRegex(@"^(.*?)(\d+)$")]
    private static partial Regex NumberedKey();
}
