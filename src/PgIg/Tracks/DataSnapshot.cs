using System.Text.Json.Nodes;
using PgIg.Pipeline;

namespace PgIg.Tracks;

/// <summary>What a track's dataset is, as the Data stage stores it: tables of rows, manifest metrics, log lines.</summary>
public sealed class DataSnapshot
{
    readonly List<(string File, Func<ArtifactWriter, Task> Write)> _tables = new();

    public Dictionary<string, JsonNode?> Metrics { get; } = new(StringComparer.Ordinal);
    public List<string> Notes { get; } = new();
    public IEnumerable<string> Files => _tables.Select(t => t.File);

    public DataSnapshot Table<T>(string file, IReadOnlyCollection<T> rows) where T : class, new()
    {
        _tables.Add((file, w => w.WriteParquetAsync(file, rows)));
        return this;
    }

    public async Task WriteAsync(ArtifactWriter w)
    {
        foreach (var (_, write) in _tables) await write(w);
        foreach (var (name, value) in Metrics) w.Metric(name, value);
    }
}
