using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PgIg.Pipeline;

/// <summary>SHA-256 over canonical JSON (sorted keys, invariant numbers), and over file contents.</summary>
public static class Hashing
{
    static readonly JsonSerializerOptions Canonical = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Canonical form: objects with keys in ordinal order, arrays in order, no whitespace.</summary>
    public static string CanonicalJson(object? value) => Sort(JsonSerializer.SerializeToNode(value, Canonical))?.ToJsonString(Canonical) ?? "null";

    public static string PrettyJson(object? value) => Sort(JsonSerializer.SerializeToNode(value, Canonical))?.ToJsonString(Pretty) ?? "null";

    static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, Sort(kv.Value?.DeepClone())))),
        JsonArray a => new JsonArray(a.Select(x => Sort(x?.DeepClone())).ToArray()),
        _ => node?.DeepClone(),
    };

    public static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string Sha256OfFile(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    /// <summary>Hash of a file's content after gunzip when it is gzipped, so .gz and raw copies of the same data agree.</summary>
    public static string ContentSha256(string path)
    {
        using var s = OpenMaybeGzip(path);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    public static Stream OpenMaybeGzip(string path)
    {
        var fs = File.OpenRead(path);
        int b0 = fs.ReadByte(), b1 = fs.ReadByte();
        fs.Position = 0;
        return b0 == 0x1f && b1 == 0x8b ? new GZipStream(fs, CompressionMode.Decompress) : fs;
    }
}
