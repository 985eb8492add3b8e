namespace PgIg.Data.Download;

/// <summary>A file to fetch: tried mirror by mirror; <paramref name="Size"/>, <paramref name="Sha256"/> and
/// <paramref name="Md5"/> (lower- or upper-case hex) are checked when given.</summary>
public sealed record DownloadSource(string Name, IReadOnlyList<string> Mirrors, long? Size, string? Sha256, string? Md5);

/// <summary>What a successful download produced.</summary>
/// <param name="Path">The destination file.</param>
/// <param name="Mirror">The mirror that completed it.</param>
/// <param name="Size">Final size in bytes.</param>
/// <param name="Sha256">SHA-256 of the file, always computed (lower-case hex).</param>
/// <param name="Md5">MD5 of the file when the source pins one, otherwise null.</param>
/// <param name="Sha256Verified">False when the source pins no SHA-256: print "pin this hash: sha256: …".</param>
/// <param name="Md5Verified">True when a pinned MD5 matched.</param>
/// <param name="BytesTransferred">Bytes fetched over the network in this call (0 when a complete .part was reused).</param>
public sealed record DownloadResult(
    string Path, string Mirror, long Size, string Sha256, string? Md5, bool Sha256Verified, bool Md5Verified, long BytesTransferred);
