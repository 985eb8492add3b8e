using System.Text.Json.Nodes;
using PgIg.Config;
using PgIg.Methods;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Pipeline;
using PgIg.Sanity;
using PgIg.Tracks;
using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Stages;

/// <summary>
/// Sanity (Adebayo et al., NeurIPS 2018; Sixt et al., ICML 2020): per method (Sanity:&lt;method&gt;) and shard of the first
/// <c>sanity.images</c> evaluation images, each image's map on the model with its top k conv/dense layers re-initialised
/// (k = 1…K, cumulatively, <see cref="CascadingRandomisation"/>) compared with its map on the original model (the Attribute
/// artifact), and its map for the second most probable class compared with that for the predicted class
/// (<see cref="MapSimilarity"/>). The randomised model explains the class the original predicts. Pattern methods run with the
/// original model's patterns and, where the pipeline estimates patterns, with patterns re-estimated for each randomised model
/// (Sanity:patterns, one unit per level). Maps read from files (imported) do not take part: they cannot be recomputed.
/// </summary>
public sealed class SanityStage : Stage
{
    public override string Name => "Sanity";

    /// <summary>The stage of the patterns re-estimated for the randomised models, one unit per level, shared by the pattern methods.</summary>
    public const string PatternsStageName = "Sanity:patterns";
    public const string Original = "original", Recomputed = "recomputed", NoPatterns = "none";
    /// <summary>Level of the random-map reference rows; of the other class's example map.</summary>
    public const int RandomMapLevel = -1, ClassLevel = -2;
    public const string RandomMapLayer = "random_map";

    const string SimilarityFile = "similarity.parquet", ClassFile = "class.parquet", ExampleFile = "examples.parquet";

    readonly Dictionary<string, IReadOnlyList<StageKey>> _keys = new(StringComparer.Ordinal);
    IReadOnlyList<StageKey> _patternKeys = [];
    ArtifactCache? _cache;

    /// <summary>The methods that take part (all but imported maps), once planned with sanity enabled.</summary>
    public IReadOnlyList<ResolvedMethod> Methods { get; private set; } = [];
    /// <summary>The cascade's levels 1…K by name (the lowest layer each re-initialises).</summary>
    public IReadOnlyList<string> Levels { get; private set; } = [];
    public bool RecomputesPatterns => _patternKeys.Count > 0;
    /// <summary>A method's keys, one per shard of the subset; empty when sanity is off.</summary>
    public IReadOnlyList<StageKey> KeysOf(ResolvedMethod m) => _keys.TryGetValue(m.Name, out var k) ? k : [];
    public IReadOnlyList<StageKey> PatternKeys => _patternKeys;

    /// <summary>The pattern variants a method runs with: none, or original (and recomputed where patterns are estimated).</summary>
    public IReadOnlyList<string> VariantsOf(ResolvedMethod m) => !m.UsesPatterns ? [NoPatterns] : RecomputesPatterns ? [Original, Recomputed] : [Original];

    public override IReadOnlyList<PlannedStage> Plan(PlanContext p)
    {
        var c = p.Config;
        if (!c.Sanity.Enabled) return [];
        _cache = p.Cache;
        Methods = c.Methods.Where(m => !MethodRegistry.KindOf(m).FromFiles).ToList();
        Levels = CascadeLayers.Levels(c);
        var randomisation = new { seed = c.Sanity.Seed, init = CascadingRandomisation.Init };
        var result = new List<PlannedStage>();
        var originalPatterns = p.Get<PatternsStage>().Key;
        if (Methods.Any(m => m.UsesPatterns) && p.Track.Patterns is EstimatedPatterns && originalPatterns is not null)
        {
            // the same estimator and sample as the Patterns stage (its key), run on the randomised model
            var data = p.Get<DataStage>().Key;
            _patternKeys = Levels.Select((_, i) => new StageKey("sanity", $"sanity:patterns/level-{i + 1:00}", new CodeId("sanity-patterns-v1", p.Run.Fingerprints.Of("sanity/randomise-estimate", ProbeEstimate)),
                new { randomisation, randomised = Levels.Take(i + 1).ToArray(), batch_size = c.Patterns.BatchSize },
                [("model", p.Model), ("patterns", originalPatterns), ("data", data)])).ToList();
            result.Add(Planned(_patternKeys.Select((k, i) => new StageUnit(k, [p.Model, originalPatterns, data], w => EstimatePatternsAsync(p, i + 1, w))).ToList(), PatternsStageName));
        }
        var images = p.Get<DataStage>().Images;
        if (images is null) return result.Concat(Methods.Select(m => NotYetKnown($"{Name}:{m.Name}"))).ToList();

        var pre = p.Get<PreprocessStage>().Keys;
        var predict = p.Get<PredictStage>().Keys;
        var attribute = p.Get<AttributeStage>();
        int n = Math.Min(c.Sanity.Images, images.Count), shards = (n + c.ShardSize - 1) / c.ShardSize;
        foreach (var m in Methods)
        {
            var kind = MethodRegistry.KindOf(m);
            var variants = VariantsOf(m);
            var keys = new List<StageKey>();
            var units = new List<StageUnit>();
            for (int i = 0; i < shards; i++)
            {
                int count = Math.Min(c.ShardSize, n - i * c.ShardSize);
                // the method's own config is in the Attribute key; here what the comparison adds
                var config = new
                {
                    randomisation, cascade = Levels, images = count, batch_size = c.BatchSize, patterns = variants,
                    other_class = "second_most_probable", reference = "uniform_random_map",
                };
                var upstream = new List<(string, StageKey)> { ("attribute", attribute.KeysOf(m)[i]), ("model", p.Model), ("preprocess", pre[i]) };
                if (m.UsesPatterns) upstream.Add(("patterns", originalPatterns!));
                if (m.UsesPatterns) upstream.AddRange(_patternKeys.Select((k, level) => ($"patterns_level_{level + 1:00}", k)));
                if (kind.UsesReferenceSet(c.Quirks)) upstream.Add(("reference", pre[0]));
                var key = new StageKey("sanity", $"sanity:{m.Name}/shard-{i:0000}", new CodeId("sanity-v1", p.Run.Fingerprints.Of("sanity/randomise-compare", ProbeCompare)), config, upstream);
                keys.Add(key);
                int shard = i;
                units.Add(new StageUnit(key, upstream.Select(u => u.Item2).Append(predict[i]).ToList(), w => CompareAsync(p, m, shard, count, shards, w)));
            }
            _keys[m.Name] = keys;
            result.Add(Planned(units, $"{Name}:{m.Name}"));
        }
        return result;
    }

    /// <summary>Fingerprint probe of the comparison (the method itself is in its Attribute key upstream): the probe network
    /// randomised down one and two layers, and the similarity measures of two fixed maps.</summary>
    static void ProbeCompare(NumericDigest d)
    {
        using var net = ProbeInput.Net();
        for (int k = 1; k <= 2; k++)
        {
            using var randomised = CascadingRandomisation.Randomise(net, k, 7);
            for (int i = 0; i < randomised.Net.WeightedLayers.Count; i++)
                d.Add($"level{k}/W{i}", randomised.Net.WeightedLayers[i].Weight).Add($"level{k}/b{i}", randomised.Net.WeightedLayers[i].Bias);
        }
        float[] Map(string name) => ProbeInput.Uniform(name, 3 * 8 * 8).Select(v => (float)v).ToArray();
        var s = MapSimilarity.Compare(Map("sanity-a"), Map("sanity-b"), 3, 8, 8);
        d.AddSeries("similarity", [s.SpearmanAbs, s.Spearman, s.Ssim]);
    }

    /// <summary>Fingerprint probe of the recomputed patterns: a₊ of the probe network's randomised top layer, the layers
    /// below kept from a first estimate.</summary>
    static void ProbeEstimate(NumericDigest d)
    {
        using var net = ProbeInput.Net();
        using var scope = torch.NewDisposeScope();
        var x = ProbeInput.Tensor("sanity-patterns", 8, ProbeInput.Channels, ProbeInput.Size, ProbeInput.Size);
        using var first = new PatternEstimator(net);
        first.Add(x);
        using var original = first.Result();
        using var randomised = CascadingRandomisation.Randomise(net, 1, 7);
        using var est = new PatternEstimator(randomised.Net, net.WeightedLayers.Count - 1);
        est.Add(x);
        using var patterns = est.Result(original.A);
        for (int i = 0; i < patterns.A.Count; i++) d.Add($"A{i}", patterns.A[i]);
    }

    /// <summary>PatternNet a₊ of the model randomised down to level <paramref name="level"/>; the layers below it keep the original's patterns,
    /// which are what the estimator would give again (same weights, same inputs), so only the randomised layers are re-estimated.</summary>
    async Task EstimatePatternsAsync(PlanContext p, int level, ArtifactWriter w)
    {
        var estimated = (EstimatedPatterns)p.Track.Patterns;
        using var net = p.LoadModel();
        using var randomised = CascadingRandomisation.Randomise(net, level, p.Config.Sanity.Seed);
        using var original = p.Get<PatternsStage>().Load(net);
        using var est = new PatternEstimator(randomised.Net, net.WeightedLayers.Count - level);
        int images = await PatternsStage.FeedSampleAsync(p, estimated, est, $"sanity patterns {Levels[level - 1]}", $"level {level}/{Levels.Count}");
        using var patterns = est.Result(original.A);
        await PatternsStage.WriteAsync(w, patterns);
        w.Metric("images", images);
        w.Metric("reestimated_layers", level);
        w.Metric("mean_abs_wta_minus_1", PatternNpz.NormalisationError(patterns, randomised.Net));
    }

    PatternSet LoadRecomputed(SequentialNet net, int level) =>
        new PatternSet(TensorFiles.Read(_cache!.DirectoryOf(_patternKeys[level - 1]), TensorFiles.PatternsFile).Select(t => t.Value).ToList()).CheckMatches(net);

    /// <summary>One shard of the subset: every level and pattern variant, the other class, the random-map reference.</summary>
    async Task CompareAsync(PlanContext p, ResolvedMethod m, int shard, int count, int shards, ArtifactWriter w)
    {
        var c = p.Config;
        var device = p.Run.Device;
        var kind = MethodRegistry.KindOf(m);
        var rows = (await p.Get<PreprocessStage>().ReadShardAsync(shard)).Take(count).ToList();
        var predictions = (await p.Get<PredictStage>().ReadAsync(shard)).Take(count).ToList();
        var original = (await p.Get<AttributeStage>().ReadMapsAsync(m, shard)).Take(count).ToList();
        if (!original.Select(r => r.ImageId).SequenceEqual(rows.Select(r => r.ImageId)))
            throw new InvalidDataException($"the {m.Name} maps of shard {shard} are not in the shard's image order");
        var originalMaps = original.Select(r => r.MapValues()).ToList();
        var net = p.Net;
        int channels = (int)net.InputShape[0], height = (int)net.InputShape[1], width = (int)net.InputShape[2];
        using var reference = kind.UsesReferenceSet(c.Quirks) ? p.Track.ToInput(await p.Get<PreprocessStage>().ReadShardAsync(0)).to(device).DetachFromDisposeScope() : null;
        var variants = VariantsOf(m);
        int nb = (rows.Count + c.BatchSize - 1) / c.BatchSize, steps = 1 + Levels.Count * variants.Count, step = 0;
        var similarity = new List<SanityRow>();
        var classRows = new List<ClassSensitivityRow>();
        var examples = new List<SanityExampleRow> { Example(original[0].ImageId, 0, "", original[0].TargetClass, originalMaps[0]) };
        // each batch's inputs, made once for the 2 + levels × variants passes over the subset and freed with this scope
        using var inputScope = torch.NewDisposeScope();
        var inputs = Enumerable.Range(0, nb).Select(b => p.Track.ToInput(rows.Skip(b * c.BatchSize).Take(c.BatchSize).ToList()).to(device)).ToList();

        // maps of the method on a net (with patterns where it uses them) for every batch, with the class per image
        void ForEachBatch(SequentialNet on, PatternStream? patterns, Func<int, long[]> classesOf, Action<int, float[][]> use)
        {
            using var rule = MethodRegistry.CreateRule(m, on, patterns);
            var method = MethodRegistry.Create(m, rule, on, c.Quirks, c.MemoryBudgetBytes, reference);
            for (int b = 0; b < nb; b++)
            {
                using var scope = torch.NewDisposeScope();
                var batch = rows.Skip(b * c.BatchSize).Take(c.BatchSize).ToList();
                var ids = batch.Select(r => r.ImageId).ToArray();
                var x = inputs[b];
                // the batch and its key as Attribute has them, so batch-coupled draws (exp_grad) are the same
                var info = new BatchInfo(ids, m.Seed, string.Join(",", ids), batch.Select(r => r.File).ToArray());
                var maps = method.Attribute(x, torch.tensor(classesOf(b)).to(device), info).cpu().contiguous();
                var flat = maps.reshape(maps.shape[0], -1).data<float>().ToArray();
                int per = flat.Length / batch.Count;
                use(b, Enumerable.Range(0, batch.Count).Select(i => flat.AsSpan(i * per, per).ToArray()).ToArray());
                p.Run.Progress.Report($"sanity {m.Name}", (shard * steps + step) * nb + b + 1, shards * steps * nb, $"shard {shard + 1}/{shards}");
            }
            step++;
        }
        long[] Predicted(int b) => predictions.Skip(b * c.BatchSize).Take(c.BatchSize).Select(r => (long)r.TargetClass).ToArray();

        // class sensitivity: the second most probable class of the original model, on the original model
        var other = new long[rows.Count];
        for (int b = 0; b < nb; b++)
        {
            using var scope = torch.NewDisposeScope();
            var second = net.Forward(inputs[b]).topk(2, dim: 1).indexes[TensorIndex.Colon, 1].cpu().data<long>().ToArray();
            second.CopyTo(other, b * c.BatchSize);
        }
        ForEachBatch(net, m.UsesPatterns ? p.Patterns : null, b => other.Skip(b * c.BatchSize).Take(c.BatchSize).ToArray(), (b, maps) =>
        {
            for (int i = 0; i < maps.Length; i++)
            {
                int j = b * c.BatchSize + i;
                var s = MapSimilarity.Compare(originalMaps[j], maps[i], channels, height, width);
                classRows.Add(new ClassSensitivityRow { ImageId = rows[j].ImageId, TargetClass = original[j].TargetClass, OtherClass = (int)other[j], SpearmanAbs = s.SpearmanAbs, Spearman = s.Spearman, Ssim = s.Ssim });
                if (j == 0) examples.Add(Example(rows[0].ImageId, ClassLevel, "", (int)other[0], maps[i]));
            }
        });

        for (int level = 1; level <= Levels.Count; level++)
        {
            using var randomised = CascadingRandomisation.Randomise(net, level, c.Sanity.Seed);
            foreach (var variant in variants)
            {
                using var recomputed = variant == Recomputed ? LoadRecomputed(randomised.Net, level).To(device) : null;
                var patterns = variant == Original ? p.Patterns : recomputed;
                int lv = level;
                ForEachBatch(randomised.Net, patterns, Predicted, (b, maps) =>
                {
                    for (int i = 0; i < maps.Length; i++)
                    {
                        int j = b * c.BatchSize + i;
                        var s = MapSimilarity.Compare(originalMaps[j], maps[i], channels, height, width);
                        similarity.Add(Row(rows[j].ImageId, original[j].TargetClass, lv, Levels[lv - 1], variant, s));
                        if (j == 0) examples.Add(Example(rows[0].ImageId, lv, variant, original[0].TargetClass, maps[i]));
                    }
                });
            }
        }

        // the reference: each original map against a uniform random map seeded by the image
        for (int j = 0; j < rows.Count; j++)
        {
            using var gen = Seeds.Generator(c.Sanity.Seed, "sanity-random-map", rows[j].ImageId);
            using var r = torch.rand(net.InputShape, generator: gen);
            var s = MapSimilarity.Compare(originalMaps[j], r.data<float>().ToArray(), channels, height, width);
            similarity.Add(Row(rows[j].ImageId, original[j].TargetClass, RandomMapLevel, RandomMapLayer, NoPatterns, s));
        }

        await w.WriteParquetAsync(SimilarityFile, similarity);
        await w.WriteParquetAsync(ClassFile, classRows);
        await w.WriteParquetAsync(ExampleFile, examples);
        w.Metric("images", rows.Count);
        w.Metric("levels", new JsonArray(Levels.Select(l => (JsonNode?)l).ToArray()));
    }

    static SanityRow Row(long id, int target, int level, string layer, string patterns, Similarity s) => new()
    {
        ImageId = id, TargetClass = target, Level = level, Layer = layer, Patterns = patterns, SpearmanAbs = s.SpearmanAbs, Spearman = s.Spearman, Ssim = s.Ssim,
    };

    static SanityExampleRow Example(long id, int level, string patterns, int target, float[] map) =>
        new() { ImageId = id, Level = level, Patterns = patterns, TargetClass = target, Map = Float32.ToBytes(map) };

    /// <summary>A method's per-image comparisons over every shard of the subset, read verified.</summary>
    public async Task<(List<SanityRow> Similarity, List<ClassSensitivityRow> Class)> ReadAsync(ResolvedMethod m)
    {
        var similarity = new List<SanityRow>();
        var classRows = new List<ClassSensitivityRow>();
        foreach (var key in KeysOf(m))
        {
            var dir = _cache!.DirectoryOf(key);
            similarity.AddRange(await ParquetFiles.ReadAsync<SanityRow>(Path.Combine(dir, SimilarityFile)));
            classRows.AddRange(await ParquetFiles.ReadAsync<ClassSensitivityRow>(Path.Combine(dir, ClassFile)));
        }
        return (similarity, classRows);
    }

    /// <summary>The example maps of the subset's first image (shard 0), read verified.</summary>
    public async Task<List<SanityExampleRow>> ReadExamplesAsync(ResolvedMethod m) =>
        (await ParquetFiles.ReadAsync<SanityExampleRow>(Path.Combine(_cache!.DirectoryOf(KeysOf(m)[0]), ExampleFile))).ToList();
}
