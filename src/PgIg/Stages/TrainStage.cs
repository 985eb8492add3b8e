using System.Text.Json.Nodes;
using PgIg.Models;
using PgIg.Pipeline;
using PgIg.Tracks;
using TorchSharp;

namespace PgIg.Stages;

/// <summary>Train: the model of tracks that train their own (Fashion-MNIST), with seeded generators and a test-accuracy floor.</summary>
public sealed class TrainStage : Stage
{
    public override string Name => "Train";

    public StageKey? Key { get; private set; }

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        if (p.Track.Model is not TrainedModel model) return [Planned([])];
        var t = p.Config.Model.Train;
        var data = p.Get<DataStage>().Key;
        Key = p.ModelKey = new StageKey("train", "train", new CodeId("train-v3", p.Run.Fingerprints.Of($"train/{model.Architecture}", d => Probe(d, model.Architecture))), new
        {
            architecture = model.Architecture, epochs = t.Epochs, batch_size = t.BatchSize, learning_rate = t.LearningRate,
            train_size = t.TrainSize, seed = t.Seed, normalise = model.InputNormalisation,
        }, [("data", data)]);
        return [Planned([new StageUnit(Key, [data], w => TrainAsync(p, model, w))])];
    }

    static async Task TrainAsync(PlanContext p, TrainedModel model, ArtifactWriter w)
    {
        var (c, ctx) = (p.Config, p.Run);
        var t = c.Model.Train;
        var (allTrain, test) = await model.SplitsAsync(p.Get<DataStage>().Directory);
        var train = allTrain.Take(t.TrainSize).ToList();
        using var scope = torch.NewDisposeScope();
        var trainX = p.Track.ToInput(train); var trainY = Labels(train);
        var testX = p.Track.ToInput(test); var testY = Labels(test);
        int stepsPerEpoch = (train.Count + t.BatchSize - 1) / t.BatchSize;
        var spec = Architectures.ByName(model.Architecture);
        ctx.Log($"  training {spec.Name} on {train.Count} images, {t.Epochs} epoch(s)");
        var result = Trainer.Train(spec, trainX, trainY, testX, testY, t.Epochs, t.BatchSize, t.LearningRate, t.Seed,
            (epoch, step, loss) => ctx.Progress.Report("train", epoch * stepsPerEpoch + step, t.Epochs * stepsPerEpoch, $"epoch {epoch + 1} loss {loss:0.000}"));
        ctx.Log($"  test accuracy {result.TestAccuracy:P2} ({test.Count} test images)");
        if (result.TestAccuracy < t.MinTestAccuracy)
            throw new InvalidOperationException($"{c.SourceFile}: trained model reaches {result.TestAccuracy:P2} test accuracy, below model.train.min_test_accuracy {t.MinTestAccuracy:P0}; train longer (model.train.epochs) or on more images (model.train.train_size)");
        await TensorFiles.WriteAsync(w, TensorFiles.ModelFile, TensorStore.ModelRows(result.Net));
        w.Metric("test_accuracy", result.TestAccuracy);
        w.Metric("epoch_losses", new JsonArray(result.EpochLosses.Select(l => (JsonNode?)l).ToArray()));
        result.Net.Dispose();
    }

    /// <summary>Fingerprint probe: two epochs of training on eight fixed float64 images; the weights, losses and accuracy.</summary>
    static void Probe(NumericDigest d, string architecture)
    {
        var spec = Architectures.ByName(architecture);
        using var scope = torch.NewDisposeScope();
        const int n = 8;
        long classes = spec.WeightShapes[^1][0];
        var x = ProbeInput.Tensor("train", new long[] { n }.Concat(spec.InputShape).ToArray());
        var y = torch.tensor(Enumerable.Range(0, n).Select(i => i % classes).ToArray());
        var r = Trainer.Train(spec, x, y, x, y, epochs: 2, batchSize: 4, learningRate: 1e-3, seed: 7);
        using var net = r.Net;
        for (int i = 0; i < net.WeightedLayers.Count; i++) d.Add($"W{i}", net.WeightedLayers[i].Weight).Add($"b{i}", net.WeightedLayers[i].Bias);
        d.AddSeries("losses", r.EpochLosses).AddSeries("accuracy", [r.TestAccuracy]);
    }

    static TorchSharp.torch.Tensor Labels(IReadOnlyList<ImageRow> rows) => torch.tensor(rows.Select(r => (long)r.Label).ToArray());
}
