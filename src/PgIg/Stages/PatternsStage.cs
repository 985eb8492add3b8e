using PgIg.Formats;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Pipeline;
using PgIg.Tracks;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Stages;

/// <summary>Per-layer check of npz patterns against the model (Patterns stage, check.parquet).</summary>
public sealed class PatternCheckRow
{
    public int Layer { get; set; }
    public string Key { get; set; } = "";
    public long[] Shape { get; set; } = [];
    public long UnitsWithPattern { get; set; }
    public double MeanAbsWtaMinus1 { get; set; }
}

/// <summary>
/// Patterns: PatternNet a₊ patterns for the model, estimated on a seeded sample of the track's images, or the
/// original's pattern file (fetched) checked against the model it will be used with. Planned only where a
/// method uses patterns.
/// </summary>
public sealed class PatternsStage : Stage
{
    public override string Name => "Patterns";

    public StageKey? Key { get; private set; }

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        if (!p.Config.Methods.Any(m => m.UsesPatterns)) return [Planned([])];
        var data = p.Get<DataStage>().Key;
        var model = p.Model;
        List<(string, StageKey)> upstream;
        Func<ArtifactWriter, Task> body;
        switch (p.Track.Patterns)
        {
            case PatternFile:
                var file = p.Get<FetchStage>().PatternFileKey!;
                upstream = [("pattern_file", file), ("model", model)];
                Key = new StageKey("patterns", "patterns", new CodeId("patterns-npz-v1", p.Run.Fingerprints.Of("patterns/check", ProbeCheck)), new { source = "npz" }, upstream);
                body = w => CheckFileAsync(p, file, w);
                break;
            case EstimatedPatterns estimated:
                upstream = [("model", model), ("data", data)];
                Key = new StageKey("patterns", "patterns", new CodeId(estimated.CodeVersion, p.Run.Fingerprints.Of("patterns/estimate", ProbeEstimate)), estimated.KeyConfig, upstream);
                body = w => EstimateAsync(p, estimated, w);
                break;
            default:
                throw new NotSupportedException($"pattern source {p.Track.Patterns.GetType().Name}");
        }
        _artifact = p.Track.Patterns is PatternFile ? p.Get<FetchStage>().PatternFileKey : Key;
        _cache = p.Cache;
        var needs = upstream.Select(u => u.Item2).Append(data).Distinct().ToList();
        return [Planned([new StageUnit(Key, needs, body)])];
    }

    /// <summary>The patterns the methods use, checked against <paramref name="net"/> (CPU tensors; the caller owns them).</summary>
    public PatternSet Load(SequentialNet net) => new PatternSet(Stream(net).ToList()).CheckMatches(net);

    /// <summary>
    /// The patterns A_0, A_1, … one at a time as they are read from the artifact, each checked against its layer of
    /// <paramref name="net"/> (CPU tensors; the consumer owns each one), so W ⊙ A can be built without holding every A.
    /// </summary>
    public IEnumerable<Tensor> Stream(SequentialNet net)
    {
        if (_artifact is null || _cache is null) throw new InvalidOperationException("no method of this config uses patterns");
        int i = 0;
        foreach (var t in TensorFiles.Stream(_cache.DirectoryOf(_artifact), TensorFiles.PatternsFile))
        {
            try { PatternSet.CheckLayer(net, i, t.Value); }
            catch { t.Value.Dispose(); throw; }
            i++;
            yield return t.Value;
        }
        PatternSet.CheckCount(net, i);
    }

    /// <summary>Where patterns.parquet lives: the fetched file's unit (checked here) or this stage's own estimate.</summary>
    StageKey? _artifact;
    ArtifactCache? _cache;

    /// <summary>Feeds the track's pattern sample to <paramref name="est"/> in batches of patterns.batch_size, reporting progress
    /// as <paramref name="task"/>; returns the number of images.</summary>
    public static async Task<int> FeedSampleAsync(PlanContext p, EstimatedPatterns source, PatternEstimator est, string task, string? detail = null)
    {
        var sample = source.Sample(p.Get<DataStage>().Directory);
        int bs = p.Config.Patterns.BatchSize;
        for (int s = 0; s < sample.Count; s += bs)
        {
            using var scope = torch.NewDisposeScope();
            est.Add(await sample.InputsAsync(s, Math.Min(bs, sample.Count - s)));
            p.Run.Progress.Report(task, Math.Min(sample.Count, s + bs), sample.Count, detail);
        }
        return sample.Count;
    }

    /// <summary>Writes patterns as a tensor artifact (A_0, A_1, … in chunk rows), as every reader of patterns.parquet expects.</summary>
    public static Task WriteAsync(ArtifactWriter w, PatternSet patterns) =>
        TensorFiles.WriteAsync(w, TensorFiles.PatternsFile, patterns.A.SelectMany((a, i) => TensorStore.ToRows(i, $"A_{i}", a)));

    /// <summary>PatternNet a₊ over the track's sample, batch by batch.</summary>
    static async Task EstimateAsync(PlanContext p, EstimatedPatterns source, ArtifactWriter w)
    {
        using var net = p.LoadModel();
        using var est = new PatternEstimator(net);
        int images = await FeedSampleAsync(p, source, est, "patterns");
        using var patterns = est.Result();
        await WriteAsync(w, patterns);
        PatternNpz.Export(patterns, net, w.PathOf("patterns.npz"));
        w.RegisterFile("patterns.npz");
        w.Metric("images", images);
        // wᵀa per unit should be 1 (a sanity figure for the manifest)
        w.Metric("mean_abs_wta_minus_1", PatternNpz.NormalisationError(patterns, net));
    }

    /// <summary>Units with a pattern (wᵀa ≠ 0) of one layer and their summed |wᵀa − 1|.</summary>
    static (long Units, double Error) CheckLayer(Tensor weight, Tensor a)
    {
        using var scope = torch.NewDisposeScope();
        var wta = (weight * a).reshape(weight.shape[0], -1).sum(1).to(ScalarType.Float64);
        var active = wta.ne(0);
        long n = active.sum().item<long>();
        return (n, n == 0 ? 0 : (wta - 1).abs().masked_select(active).sum().item<double>());
    }

    /// <summary>Fingerprint probe of the estimate: a₊ of the probe network over 16 fixed images in two batches.</summary>
    static void ProbeEstimate(NumericDigest d)
    {
        using var net = ProbeInput.Net();
        using var scope = torch.NewDisposeScope();
        using var est = new PatternEstimator(net);
        var x = ProbeInput.Tensor("patterns", 16, ProbeInput.Channels, ProbeInput.Size, ProbeInput.Size);
        est.Add(x[..8]);
        est.Add(x[8..]);
        using var patterns = est.Result();
        for (int i = 0; i < patterns.A.Count; i++) d.Add($"A{i}", patterns.A[i]);
        d.AddSeries("mean_abs_wta_minus_1", [PatternNpz.NormalisationError(patterns, net)]);
    }

    /// <summary>Fingerprint probe of the check of a pattern file, on synthetic patterns of the probe network.</summary>
    static void ProbeCheck(NumericDigest d)
    {
        using var net = ProbeInput.Net();
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < net.WeightedLayers.Count; i++)
        {
            var w = net.WeightedLayers[i].Weight;
            // half the units without a pattern, as the original's files have units that never fire
            var a = ProbeInput.Tensor($"pattern{i}", w.shape) * (torch.arange(w.shape[0]).remainder(2).to(w.dtype).reshape(new long[] { -1 }.Concat(Enumerable.Repeat(1L, (int)w.dim() - 1)).ToArray()));
            var (n, err) = CheckLayer(w, a);
            d.AddExact($"units{i}", [n]).AddSeries($"error{i}", [err]);
        }
    }

    /// <summary>The npz patterns were converted by Fetch; here they are checked against the model they will be used with.</summary>
    static async Task CheckFileAsync(PlanContext p, StageKey fileKey, ArtifactWriter w)
    {
        var ctx = p.Run;
        using var net = p.LoadModel();
        string origin = ctx.Cache.ReadManifest(fileKey).Metrics.TryGetValue("origin", out var o) && o is not null ? o.GetValue<string>() : "pattern file";
        var weightsOrigin = ctx.Cache.ReadManifest(p.Model).Metrics.TryGetValue("origin", out var wo) && wo is not null ? wo.GetValue<string>() : "the weights";
        var check = new List<PatternCheckRow>();
        double total = 0; long units = 0;
        int i = 0;
        // one pattern at a time, as it is read: the check holds the model and one layer's A
        foreach (var row in TensorFiles.Stream(ctx.Cache.DirectoryOf(fileKey), TensorFiles.PatternsFile))
        {
            using var a = row.Value;
            if (i >= net.WeightedLayers.Count)
                throw new InvalidDataException($"{origin}: more than {net.WeightedLayers.Count} patterns, but the model has {net.WeightedLayers.Count} conv/dense layers");
            var wShape = net.WeightedLayers[i].Weight.shape;
            if (!row.Shape.SequenceEqual(wShape))
                throw new InvalidDataException($"{origin}: key '{Vgg16Npz.PatternKey(i)}' has shape {NpyHeader.FormatShape(Vgg16Npz.FileShape(row.Shape))}, " +
                    $"expected {NpyHeader.FormatShape(Vgg16Npz.FileShape(wShape))} to match {Vgg16Npz.LayerName(i)} of {weightsOrigin}; the patterns belong to a different model");
            var (n, err) = CheckLayer(net.WeightedLayers[i].Weight, a);
            check.Add(new PatternCheckRow { Layer = i, Key = Vgg16Npz.PatternKey(i), Shape = Vgg16Npz.FileShape(row.Shape), UnitsWithPattern = n, MeanAbsWtaMinus1 = n == 0 ? 0 : err / n });
            total += err; units += n;
            i++;
        }
        if (i != net.WeightedLayers.Count)
            throw new InvalidDataException($"{origin}: {i} patterns, but the model has {net.WeightedLayers.Count} conv/dense layers");
        await w.WriteParquetAsync("check.parquet", check);
        // a₊ patterns satisfy wᵀa = 1 per unit (spec §3.2); a large value hints at patterns of another model
        w.Metric("mean_abs_wta_minus_1", units == 0 ? 0 : total / units);
        ctx.Log(PatternFit.Describe(units == 0 ? 0 : total / units));
    }
}
