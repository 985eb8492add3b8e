using System.IO.Compression;

namespace PgIg.Formats;

/// <summary>Writes named arrays into an .npz archive with uncompressed members, as np.savez does,
/// so numpy.load and <see cref="NpzReader"/> can read it back.</summary>
public sealed class NpzWriter : IDisposable
{
    readonly ZipArchive _zip;
    readonly HashSet<string> _keys = new(StringComparer.Ordinal);

    /// <summary>Creates (or overwrites) the file at <paramref name="path"/>.</summary>
    public NpzWriter(string path)
        : this(new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None), leaveOpen: false)
    {
    }

    public NpzWriter(Stream stream, bool leaveOpen = false)
    {
        _zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen);
    }

    public void Add(string key, float[] data, long[] shape) => AddMember(key, s => NpyWriter.Write(s, data, shape));

    public void Add(string key, long[] data, long[] shape) => AddMember(key, s => NpyWriter.Write(s, data, shape));

    public void Add(string key, byte[] data, long[] shape) => AddMember(key, s => NpyWriter.Write(s, data, shape));

    public void Add(string key, NpyArray array) => AddMember(key, s => NpyWriter.Write(s, array));

    /// <summary>Finishes the central directory; the archive is unreadable until this runs.</summary>
    public void Dispose() => _zip.Dispose();

    static readonly DateTimeOffset ZipEpoch = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    void AddMember(string key, Action<Stream> write)
    {
        if (string.IsNullOrEmpty(key) || key.Contains('/') || key.Contains('\\'))
            throw new ArgumentException($"invalid npz key '{key}'", nameof(key));
        if (!_keys.Add(key)) throw new ArgumentException($"duplicate npz key '{key}'", nameof(key));
        ZipArchiveEntry entry = _zip.CreateEntry(key + ".npy", CompressionLevel.NoCompression);
        // a fixed member time (the zip epoch) instead of "now": the same arrays give the same file bytes,
        // so artifact hashes in manifests only change when the content does
        entry.LastWriteTime = ZipEpoch;
        using Stream stream = entry.Open();
        write(stream);
    }
}
