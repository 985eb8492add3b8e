using PgIg.Pipeline;

namespace PgIg.Stages;

/// <summary>Preprocess: each shard's images as the model sees them before normalisation (decoded, resized, stored as uint8).</summary>
public sealed class PreprocessStage : Stage
{
    public override string Name => "Preprocess";

    const string File = "images.parquet";

    /// <summary>One key per shard of the evaluation set.</summary>
    public IReadOnlyList<StageKey> Keys { get; private set; } = [];
    ArtifactCache? _cache;

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        var data = p.Get<DataStage>();
        if (data.Images is null) return [NotYetKnown()];
        _cache = p.Cache;
        // the fingerprint covers how stored pixels become model inputs too: every later unit reads them through it
        var code = new CodeId("preprocess-v1", p.Run.Fingerprints.Of($"preprocess/{Hashing.Sha256Hex(Hashing.CanonicalJson(p.Track.PreprocessConfig))[..16]}", p.Track.ProbePreprocess));
        Keys = data.Shards.Select((imgs, i) => new StageKey("preprocess", $"preprocess/shard-{i:0000}", code,
            new { preprocess = p.Track.PreprocessConfig, image_ids = imgs.Select(v => v.Id).ToArray() }, [("data", data.Key)],
            p.Track.PreprocessFiles(imgs, data.Directory))).ToList();
        return [Planned(Keys.Select((k, i) => new StageUnit(k, [data.Key], async w =>
        {
            var rows = await p.Track.LoadImagesAsync(data.Shards[i], data.Directory);
            await w.WriteParquetAsync(File, rows);
        })).ToList())];
    }

    /// <summary>A shard's stored images, in selection order.</summary>
    public async Task<List<ImageRow>> ReadShardAsync(int shard) =>
        (await ParquetFiles.ReadAsync<ImageRow>(Path.Combine(_cache!.DirectoryOf(Keys[shard]), File))).ToList();
}
