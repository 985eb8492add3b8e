using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PgIg.Pipeline;

/// <param name="MtimeTicks">Last-write time at publication: a quick check that lets status skip hashing unchanged files.</param>
public sealed record ManifestFile(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("rows")] long? Rows,
    [property: JsonPropertyName("mtime_ticks")] long MtimeTicks = 0);

/// <summary>manifest.json of an artifact directory: what the key was made of, in readable form, and what was written.</summary>
public sealed record Manifest
{
    public const string FileName = "manifest.json";

    [JsonPropertyName("stage")] public required string Stage { get; init; }
    [JsonPropertyName("slot")] public required string Slot { get; init; }
    [JsonPropertyName("key")] public required string Key { get; init; }
    [JsonPropertyName("inputs")] public required JsonNode Inputs { get; init; }
    [JsonPropertyName("files")] public required List<ManifestFile> Files { get; init; }
    [JsonPropertyName("created_utc")] public required DateTime CreatedUtc { get; init; }
    [JsonPropertyName("duration_s")] public required double DurationSeconds { get; init; }
    [JsonPropertyName("metrics")] public Dictionary<string, JsonNode?> Metrics { get; init; } = new();
    /// <summary>SHA-256 of the manifest's canonical JSON without this field, so an edited manifest (inputs, rows,
    /// file hashes) is noticed. Null in manifests written before it existed.</summary>
    [JsonPropertyName("checksum")] public string? Checksum { get; init; }

    /// <summary>The checksum this manifest's content calls for.</summary>
    public string ComputeChecksum() => Hashing.Sha256Hex(Hashing.CanonicalJson(JsonSerializer.SerializeToNode(this with { Checksum = null }, Options)));

    public Manifest WithChecksum() => this with { Checksum = ComputeChecksum() };

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static Manifest? TryRead(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path), Options); }
        catch (JsonException) { return null; }
    }

    public double MetricDouble(string name) => Metrics.TryGetValue(name, out var n) && n is not null ? n.GetValue<double>() : double.NaN;
}
