using PgIg.Models;
using PgIg.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Stages;

/// <summary>One image's clean prediction: the class every method explains and every curve follows, and p(class).</summary>
public sealed class PredictionRow
{
    public long ImageId { get; set; }
    public int TargetClass { get; set; }
    public float Probability { get; set; }
}

/// <summary>
/// Predict: the clean forward of every image, once per shard and model, instead of once per method in Attribute
/// and again in the random order's Degrade. Batches are those of Attribute (batch_size within the shard), so the
/// logits, hence the classes, are the very ones a method's own forward gave before this stage existed. The units
/// that read it keep it out of their keys: a prediction is a function of the model and shard already in them.
/// </summary>
public sealed class PredictStage : Stage
{
    public override string Name => "Predict";

    const string File = "predictions.parquet";

    public IReadOnlyList<StageKey> Keys { get; private set; } = [];
    ArtifactCache? _cache;

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        if (p.Get<DataStage>().Images is null) return [NotYetKnown()];
        _cache = p.Cache;
        var pre = p.Get<PreprocessStage>().Keys;
        var code = new CodeId("predict-v1", p.Run.Fingerprints.Of("predict", Probe));
        Keys = pre.Select((k, i) => new StageKey("predict", $"predict/shard-{i:0000}", code, new { batch_size = p.Config.BatchSize },
            [("model", p.Model), ("preprocess", k)])).ToList();
        return [Planned(Keys.Select((k, i) => new StageUnit(k, [p.Model, pre[i]], w => PredictAsync(p, i, w))).ToList())];
    }

    static async Task PredictAsync(PlanContext p, int shard, ArtifactWriter w)
    {
        int bs = p.Config.BatchSize;
        // a batch larger than the memory budget allows runs in chunks; the rows of a logit do not depend on its chunk
        long perImage = p.Net.ForwardBytesPerExample();
        int chunk = (int)Math.Clamp(p.Config.MemoryBudgetBytes / Math.Max(1, perImage), 1, bs);
        var rows = await p.Get<PreprocessStage>().ReadShardAsync(shard);
        var result = new List<PredictionRow>(rows.Count);
        for (int b = 0; b < rows.Count; b += bs)
        {
            using var scope = torch.NewDisposeScope();
            var batch = rows.Skip(b).Take(bs).ToList();
            var x = p.Track.ToInput(batch).to(p.Run.Device);
            var logits = chunk >= batch.Count ? p.Net.Forward(x)
                : torch.cat(Enumerable.Range(0, (batch.Count + chunk - 1) / chunk).Select(c => p.Net.Forward(x[TorchSharp.torch.TensorIndex.Slice(c * chunk, Math.Min(batch.Count, (c + 1) * chunk))])).ToList(), 0);
            var (classes, probability) = Classify(logits);
            var pc = probability.cpu().data<float>().ToArray();
            var cls = classes.cpu().data<long>().ToArray();
            for (int i = 0; i < batch.Count; i++)
                result.Add(new PredictionRow { ImageId = batch[i].ImageId, TargetClass = (int)cls[i], Probability = pc[i] });
        }
        await w.WriteParquetAsync(File, result);
    }

    /// <summary>Each row's class and its probability.</summary>
    static (Tensor Classes, Tensor Probability) Classify(Tensor logits)
    {
        var classes = logits.argmax(1);   // of the logits, as Attribute chose it: softmax can round two logits to one value
        return (classes, logits.softmax(-1).gather(1, classes.unsqueeze(1)).squeeze(1));
    }

    /// <summary>Fingerprint probe: the probe network's predictions of the probe batch.</summary>
    static void Probe(NumericDigest d)
    {
        using var net = ProbeInput.Net();
        using var scope = torch.NewDisposeScope();
        var (classes, probability) = Classify(net.Forward(ProbeInput.Input()));
        d.AddExact("classes", classes.data<long>().ToArray()).Add("probability", probability);
    }

    /// <summary>A shard's predictions in selection order.</summary>
    public async Task<List<PredictionRow>> ReadAsync(int shard) =>
        (await ParquetFiles.ReadAsync<PredictionRow>(Path.Combine(_cache!.DirectoryOf(Keys[shard]), File))).ToList();
}
