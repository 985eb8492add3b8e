using PgIg.Pipeline;
using PgIg.Tracks;

namespace PgIg.Stages;

/// <summary>
/// Data: what the track's dataset is (images, labels, or a folder's listing), stored so that every later stage
/// reads one fixed snapshot. Once it exists, it defines the evaluation set and its shards.
/// </summary>
public sealed class DataStage : Stage
{
    public override string Name => "Data";

    public StageKey Key { get; private set; } = null!;
    /// <summary>The Data artifact's directory, where the track reads its snapshot back.</summary>
    public string Directory { get; private set; } = "";
    /// <summary>Evaluation images in selection order (val_size of them); null while the Data stage has not run.</summary>
    public IReadOnlyList<ValImage>? Images { get; private set; }
    /// <summary>The evaluation set in shards of shard_size images: the unit of work of the per-image stages.</summary>
    public IReadOnlyList<IReadOnlyList<ValImage>> Shards { get; private set; } = [];

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        // the snapshot lists the dataset's files and labels; the evaluation set drawn from it is in the Preprocess keys
        Key = new StageKey("data", "data", CodeId.NoNumbers(p.Track.DataCodeVersion), p.Track.DataConfig);
        Directory = p.Cache.DirectoryOf(Key);
        if (p.Cache.Check(Key, verifyContent: false).Status == CacheStatus.Fresh)
        {
            Images = p.Track.ValImages(Directory);
            Shards = Images.Chunk(p.Config.ShardSize).Select(s => (IReadOnlyList<ValImage>)s).ToList();
        }
        return [Planned([new StageUnit(Key, [], w => ComputeAsync(p, w))])];
    }

    static async Task ComputeAsync(PlanContext p, ArtifactWriter w)
    {
        var snapshot = await p.Track.LocateAsync(p.Run);
        foreach (var note in snapshot.Notes) p.Run.Log(note);
        await snapshot.WriteAsync(w);
    }
}
