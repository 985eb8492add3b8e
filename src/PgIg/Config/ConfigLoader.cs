using System.Globalization;
using PgIg.Methods;
using YamlDotNet.RepresentationModel;

namespace PgIg.Config;

/// <summary>Command-line overrides (Cake options) applied on top of the file.</summary>
public sealed record ConfigOverrides(int? ValSize = null, IReadOnlyList<string>? Methods = null, string? CacheDir = null, string? ResultsDir = null, string? ImageNetKey = null);

/// <summary>Loads and validates pipeline.yaml (schema: README "pipeline.yaml reference").</summary>
public static class ConfigLoader
{
    public static PipelineConfig Load(string file, ConfigOverrides? overrides = null)
    {
        if (!File.Exists(file))
            throw new ConfigException($"{file}: config file not found. Pass --config=<yaml> (for example config/fashion-mnist.yaml).");
        return Parse(File.ReadAllText(file), file, overrides ?? new ConfigOverrides());
    }

    public static PipelineConfig Parse(string yaml, string file, ConfigOverrides? overrides = null)
    {
        overrides ??= new ConfigOverrides();
        var r = new YamlNodeReader(file, YamlSyntax.LoadRoot(yaml, file), "");

        string name = r.String("name", Path.GetFileNameWithoutExtension(file))!;
        var track = r.Choice("track", "imagenet", "fashion-mnist", "image-folder", "imagenet") switch
        {
            "fashion-mnist" => Track.FashionMnist,
            "image-folder" => Track.ImageFolder,
            _ => Track.ImageNet,
        };
        var protocol = r.Choice("protocol", "faithful", "faithful", "corrected") == "faithful" ? Protocol.Faithful : Protocol.Corrected;
        long seed = r.Int("seed", 0, 0);
        string device = r.Choice("device", "auto", "auto", "cpu", "cuda");
        int threads = r.Int("threads", 0, 0);
        long budget = (long)r.Int("memory_budget_mb", 1024, 16) * 1024 * 1024;
        int fileValSize = r.Int("val_size", 1000, 1);       // read even when overridden, so the key counts as known
        int valSize = overrides.ValSize ?? fileValSize;
        if (overrides.ValSize is < 1) throw new ConfigException($"--val-size must be >= 1, got {overrides.ValSize}");
        int batch = r.Int("batch_size", 50, 1);
        int shard = r.Int("shard_size", Math.Max(batch, 100 / batch * batch), 1);
        if (shard % batch != 0)
            throw YamlNodeReader.Error(file, r.NodeOf("shard_size"), $"field 'shard_size' ({shard}) must be a multiple of batch_size ({batch}): shards hold whole batches");
        string fileCacheDir = r.String("cache_dir", ".pgig-cache")!, fileResultsDir = r.String("results_dir", "results")!;
        string cacheDir = overrides.CacheDir ?? fileCacheDir;
        string resultsDir = overrides.ResultsDir ?? fileResultsDir;

        var data = ParseData(r.Map("data"), overrides);
        var model = ParseModel(r.Map("model"), file, track);
        var patterns = ParsePatterns(r.Map("patterns"), track, model);
        var degrade = ParseDegrade(r.Map("degrade"), track);
        var plots = ParsePlots(r.Map("plots"));
        var quirks = ParseQuirks(r.Map("quirks"), Quirks.For(protocol));
        var methods = ParseMethods(r, file, seed);
        var sanity = SanityConfig.Parse(r.Map("sanity"), file, batch, seed, model, track);
        r.RejectUnknown();

        if (overrides.Methods is { Count: > 0 } only)
        {
            var unknown = only.Where(m => methods.All(x => x.Name != m)).ToList();
            if (unknown.Count > 0)
                throw new ConfigException($"--methods names {string.Join(", ", unknown)}{Suggest.DidYouMean(unknown[0], methods.Select(m => m.Name))}, which {file} does not configure; configured methods: {string.Join(", ", methods.Select(m => m.Name))}");
            methods = methods.Where(m => only.Contains(m.Name)).ToList();
        }
        if (methods.FirstOrDefault(m => m.Kind == "exp_grad") is { } expGrad && quirks.ExpGradBatchBaselines)
        {
            // every batch, the last (short) one included, must hold more images than baselines
            int n = expGrad.Int("n_samples"), tail = valSize % batch;
            const string Fixes = "lower exp_grad's n_samples, or set quirks.exp_grad_batch_baselines: false (baselines from a fixed reference set)";
            if (batch <= n)
                throw YamlNodeReader.Error(file, r.NodeOf("batch_size"), $"exp_grad in faithful mode takes its {n} baselines from the other images of the batch and needs batch_size > {n} (batch_size is {batch}). Raise batch_size, {Fixes}.");
            if (tail != 0 && tail <= n)
                throw new ConfigException($"{file}: val_size {valSize}{(overrides.ValSize is not null ? " (--val-size)" : "")} leaves a last batch of {tail} images, but exp_grad in faithful mode takes its {n} baselines from the batch and needs more than {n} images in every batch. " +
                    $"Use a val_size that is a multiple of batch_size ({batch}), e.g. {(valSize < batch ? $"{batch}" : $"{valSize / batch * batch} or {(valSize / batch + 1) * batch}")}, {Fixes}.");
        }

        CheckDegradeFitsInput(file, r.Map("degrade"), degrade, quirks, model, track);
        CheckDirectory(file, r, "cache_dir", cacheDir, overrides.CacheDir is not null ? "--cache-dir" : null);
        CheckDirectory(file, r, "results_dir", resultsDir, overrides.ResultsDir is not null ? "--results-dir" : null);

        return new PipelineConfig
        {
            SourceFile = file, Name = name, Track = track, Protocol = protocol, Quirks = quirks, Seed = seed, Device = device,
            Threads = threads, MemoryBudgetBytes = budget, ValSize = valSize, BatchSize = batch, ShardSize = shard,
            CacheDir = cacheDir, ResultsDir = resultsDir, Data = data, Model = model, Patterns = patterns, Degrade = degrade,
            Plots = plots, Methods = methods, Sanity = sanity,
        };
    }

    /// <summary>Input height and width of the configured model, where the config alone decides them (null where the
    /// track will refuse the architecture anyway, with its own message).</summary>
    static (long H, long W)? InputSize(ModelConfig m, Track track) => (m.Architecture, track) switch
    {
        ("fashion-cnn", Track.FashionMnist) => (28, 28),
        ("vgg16", Track.ImageNet or Track.ImageFolder) => (225, 225),
        (ModelConfig.CustomArchitecture, _) => (m.Custom!.Input.Height, m.Custom.Input.Width),   // custom on fashion-mnist is refused when parsed
        _ => null,
    };

    /// <summary>Patch size and step count checked against the model's input before any stage runs (they used to fail in Degrade, after training).</summary>
    static void CheckDegradeFitsInput(string file, YamlNodeReader? r, DegradeConfig d, Quirks q, ModelConfig m, Track track)
    {
        if (InputSize(m, track) is not var (h, w)) return;
        int p = d.PatchSize;
        if (h % p != 0 || w % p != 0)
        {
            var divisors = Enumerable.Range(1, (int)Math.Min(h, w)).Where(k => h % k == 0 && w % k == 0);
            var message = $"degrade.patch_size {p} does not tile the model's {h}×{w} input; use a divisor of both: {string.Join(", ", divisors)}";
            throw r?.NodeOf("patch_size") is { } node ? YamlNodeReader.Error(file, node, message) : new ConfigException($"{file}: {message}");
        }
        long patches = h / p * (w / p), steps = q.SkipTopPatch ? patches : patches + 1;
        if (d.NPatches > steps)
        {
            var message = $"degrade.n_patches {d.NPatches} exceeds the {steps} steps a {h}×{w} input allows at patch_size {p} ({patches} patches{(q.SkipTopPatch ? "; skip_top_patch (B1) never degrades the top one" : " plus the clean image")}); lower n_patches to at most {steps}";
            throw r?.NodeOf("n_patches") is { } node ? YamlNodeReader.Error(file, node, message) : new ConfigException($"{file}: {message}");
        }
    }

    /// <summary>A cache or results directory that names an existing file fails now, not after everything is computed.</summary>
    static void CheckDirectory(string file, YamlNodeReader r, string field, string dir, string? option)
    {
        if (!File.Exists(dir)) return;
        string what = option is not null ? $"{option} {dir}" : $"{field} {dir}";
        string message = $"{what} is a file, not a directory; {(option is not null ? $"give {option} a directory" : $"point {field} at a directory")} (it is created if missing)";
        throw option is null && r.NodeOf(field) is { } node ? YamlNodeReader.Error(file, node, message) : new ConfigException($"{file}: {message}");
    }

    static DataConfig ParseData(YamlNodeReader? r, ConfigOverrides o)
    {
        if (r is null) return new DataConfig(null, [], true, o.ImageNetKey);
        var fileKey = r.String("imagenet_key");
        var d = new DataConfig(r.String("path"), r.StringList("mirrors") ?? [], r.Bool("download", true), o.ImageNetKey ?? fileKey);
        r.RejectUnknown();
        return d;
    }

    static ModelConfig ParseModel(YamlNodeReader? r, string file, Track track)
    {
        string defaultArch = track == Track.FashionMnist ? "fashion-cnn" : "vgg16";
        var trainDefaults = new TrainConfig(Epochs: 2, BatchSize: 64, LearningRate: 1e-3, TrainSize: 60000, Seed: 0, MinTestAccuracy: 0);
        if (r is null) return new ModelConfig(defaultArch, null, null, [], trainDefaults);
        string arch = r.Choice("architecture", defaultArch, "fashion-cnn", "vgg16", ModelConfig.CustomArchitecture);
        CustomModelConfig? custom = null;
        if (arch == ModelConfig.CustomArchitecture)
        {
            if (track == Track.FashionMnist)
                throw YamlNodeReader.Error(file, r.NodeOf("architecture"), "architecture custom evaluates your model on your images: use track: image-folder (or imagenet); the fashion-mnist track trains its own CNN");
            if (!r.Has("weights"))
                throw YamlNodeReader.Error(file, r.Node, "architecture custom needs model.weights: the state_dict file (.pt/.pth from torch.save(model.state_dict(), f), .safetensors or .npz)");
            if (r.StringList("weights_mirrors") is { Count: > 0 })
                throw YamlNodeReader.Error(file, r.NodeOf("weights_mirrors"), "architecture custom reads model.weights from a local file; remove model.weights_mirrors");
            custom = CustomModelParser.Parse(r, file);
        }
        else
            foreach (var key in new[] { "input", "layers" })
                if (r.Has(key))
                    throw YamlNodeReader.Error(file, r.NodeOf(key), $"model.{key} describes a model of architecture custom; this config's architecture is {arch}");
        var t = r.Map("train");
        var train = trainDefaults;
        if (t is not null)
        {
            train = new TrainConfig(t.Int("epochs", 2, 1), t.Int("batch_size", 64, 1), t.Double("learning_rate", 1e-3, 0),
                t.Int("train_size", 60000, 1, 60000), t.Int("seed", 0, 0), t.Double("min_test_accuracy", 0, 0));
            t.RejectUnknown();
        }
        var m = new ModelConfig(arch, r.String("weights"), r.String("weights_sha256"), r.StringList("weights_mirrors") ?? [], train, custom);
        r.RejectUnknown();
        return m;
    }

    static PatternsConfig ParsePatterns(YamlNodeReader? r, Track track, ModelConfig model)
    {
        // the original's pattern file belongs to its VGG16: other models estimate theirs
        string src = track == Track.FashionMnist || model.Custom is not null ? "compute" : "npz";
        if (r is null) return new PatternsConfig(src, null, null, [], 20000, 500);
        var p = new PatternsConfig(r.Choice("source", src, "compute", "npz"), r.String("path"), r.String("sha256"),
            r.StringList("mirrors") ?? [], r.Int("train_size", 20000, 1, 60000), r.Int("batch_size", 500, 1));
        if (model.Custom is not null && p.Source == "npz")
            throw YamlNodeReader.Error(r.File, r.NodeOf("source"), "patterns.source npz reads the original's VGG16 pattern file; a custom model's patterns are estimated on your images: set patterns.source: compute");
        r.RejectUnknown();
        return p;
    }

    static DegradeConfig ParseDegrade(YamlNodeReader? r, Track track)
    {
        int patch = track == Track.FashionMnist ? 4 : 9;
        int n = track == Track.FashionMnist ? 49 : 100;
        if (r is null) return new DegradeConfig(patch, n, ["morf"]);
        var orders = r.StringList("orders") ?? ["morf"];
        var seq = r.Seq("orders");
        foreach (var (o, i) in orders.Select((o, i) => (o, i)))
            if (o is not ("morf" or "lerf" or "random" or "insertion"))
                throw YamlNodeReader.Error(r.File, seq!.Children[i], $"field '{r.Path}.orders' has '{o}'{Suggest.DidYouMean(o, ["morf", "lerf", "random", "insertion"])}; valid choices: morf, lerf, random, insertion");
        if (orders.Distinct().Count() != orders.Count)
            throw YamlNodeReader.Error(r.File, r.NodeOf("orders"), $"field '{r.Path}.orders' lists an order twice: [{string.Join(", ", orders)}]");
        if (!orders.Any(o => o is "morf" or "lerf" or "insertion"))
            throw YamlNodeReader.Error(r.File, r.NodeOf("orders"), $"field '{r.Path}.orders' needs morf, lerf or insertion: the random order does not use the methods' maps, so it is only a reference for them");
        var d = new DegradeConfig(r.Int("patch_size", patch, 1), r.Int("n_patches", n, 1), orders,
            r.Choice("engine", DegradeConfig.Incremental, DegradeConfig.Incremental, DegradeConfig.Full));
        var replacements = ParseReplacements(r);
        if (replacements.Contains(DegradeConfig.Road) && orders.Contains("insertion"))
            throw YamlNodeReader.Error(r.File, r.NodeOf("replacement"), $"field '{r.Path}.replacement' has road, which is not defined for the insertion order (its first step removes every pixel, leaving none to impute from); remove insertion from {r.Path}.orders or road from {r.Path}.replacement");
        double noise = r.Double("road_noise", DegradeConfig.DefaultRoadNoise, 0);
        if (r.Has("road_noise") && !replacements.Contains(DegradeConfig.Road))
            throw YamlNodeReader.Error(r.File, r.NodeOf("road_noise"), $"field '{r.Path}.road_noise' applies only to ROAD replacement; add road to {r.Path}.replacement or remove road_noise");
        r.RejectUnknown();
        return d with { Replacements = replacements, RoadNoise = noise };
    }

    /// <summary>degrade.replacement: mean, road, or a list of them (each its own units and result files).</summary>
    static IReadOnlyList<string> ParseReplacements(YamlNodeReader r)
    {
        string[] valid = [DegradeConfig.Mean, DegradeConfig.Road];
        if (!r.Has("replacement")) return [DegradeConfig.Mean];
        var node = r.NodeOf("replacement");
        var list = node is YamlSequenceNode ? r.StringList("replacement")! : [r.String("replacement")!];
        var seq = node as YamlSequenceNode;
        foreach (var (v, i) in list.Select((v, i) => (v, i)))
            if (!valid.Contains(v))
                throw YamlNodeReader.Error(r.File, seq?.Children[i] ?? node, $"field '{r.Path}.replacement' has '{v}'{Suggest.DidYouMean(v, valid)}; valid choices: mean, road (or a list of both)");
        if (list.Count == 0)
            throw YamlNodeReader.Error(r.File, node, $"field '{r.Path}.replacement' is an empty list; give mean, road or [mean, road]");
        if (list.Distinct().Count() != list.Count)
            throw YamlNodeReader.Error(r.File, node, $"field '{r.Path}.replacement' lists a replacement twice: [{string.Join(", ", list)}]");
        return list;
    }

    static PlotsConfig ParsePlots(YamlNodeReader? r)
    {
        if (r is null) return new PlotsConfig(null, 4);
        var p = new PlotsConfig(r.String("title"), r.Int("grid_images", 4, 0, 32), r.Bool("y_from_zero", false));
        r.RejectUnknown();
        return p;
    }

    static Quirks ParseQuirks(YamlNodeReader? r, Quirks q)
    {
        if (r is null) return q;
        foreach (var (key, keyNode, value) in r.Entries())
        {
            var sw = Quirks.Switches.FirstOrDefault(s => s.Name == key);
            if (sw.Name is null)
                throw YamlNodeReader.Error(r.File, keyNode, $"unknown quirk 'quirks.{key}'{Suggest.DidYouMean(key, Quirks.Switches.Select(s => s.Name))}; valid quirks: {string.Join(", ", Quirks.Switches.Select(s => $"{s.Name} ({s.Bug})"))}");
            string v = (value as YamlScalarNode)?.Value ?? "";
            q = sw.Set(q, YamlNodeReader.ParseBool(r.File, value, $"quirks.{key}", v));
        }
        return q;
    }

    static List<ResolvedMethod> ParseMethods(YamlNodeReader root, string file, long globalSeed)
    {
        var seq = root.Seq("methods");
        if (seq is null || seq.Children.Count == 0)
            throw new ConfigException($"{file}: 'methods' is missing or empty; list at least one of: {string.Join(", ", MethodRegistry.ShorthandNames())}");
        var list = new List<ResolvedMethod>();
        foreach (var item in seq.Children)
        {
            var m = item switch
            {
                YamlScalarNode s => FromShorthand(file, s, globalSeed),
                YamlMappingNode map => FromEntry(file, new YamlNodeReader(file, map, $"methods[{list.Count}]"), globalSeed),
                _ => throw YamlNodeReader.Error(file, item, "a method is a name (e.g. pattern_integrate_grad) or a mapping {name, method, rule, params}"),
            };
            if (list.Any(x => x.Name == m.Name))
                throw YamlNodeReader.Error(file, item, $"method name '{m.Name}' appears twice; give each entry a unique 'name'");
            if (!System.Text.RegularExpressions.Regex.IsMatch(m.Name, "^[A-Za-z0-9_.-]+$"))
                throw YamlNodeReader.Error(file, item, $"method name '{m.Name}' may contain only letters, digits, '_', '-' and '.'");
            list.Add(m);
        }
        return list;
    }

    static ResolvedMethod FromShorthand(string file, YamlScalarNode s, long seed)
    {
        var parsed = MethodRegistry.ParseShorthand(s.Value ?? "")
            ?? throw YamlNodeReader.Error(file, s, $"unknown method '{s.Value}'{Suggest.DidYouMean(s.Value ?? "", MethodRegistry.ShorthandNames())}; valid methods: {string.Join(", ", MethodRegistry.ShorthandNames())}");
        var kind = MethodRegistry.Find(parsed.Kind)!;
        return new ResolvedMethod(s.Value!, parsed.Kind, parsed.Rule, kind.Params.ToDictionary(p => p.Name, p => p.Default), seed);
    }

    static ResolvedMethod FromEntry(string file, YamlNodeReader r, long globalSeed)
    {
        if (r.Has("maps")) return Imported(file, r, globalSeed);
        string? methodStr = r.String("method");
        if (methodStr is null) throw YamlNodeReader.Error(file, r.Node, $"'{r.Path}' needs a 'method' field (or 'maps' and 'ids' for maps made elsewhere); valid methods: {string.Join(", ", MethodRegistry.ShorthandNames())}");
        var parsed = MethodRegistry.ParseShorthand(methodStr)
            ?? throw YamlNodeReader.Error(file, r.Node, $"'{r.Path}.method' is '{methodStr}'{Suggest.DidYouMean(methodStr, MethodRegistry.ShorthandNames())}; valid methods: {string.Join(", ", MethodRegistry.ShorthandNames())}");
        var kind = MethodRegistry.Find(parsed.Kind)!;
        string rule = r.Choice("rule", parsed.Rule, MethodRegistry.Rules.ToArray());
        if (!kind.NeedsBackward && rule != "gradient")
            throw YamlNodeReader.Error(file, r.Node, $"method '{kind.Name}' uses no backward pass, so it takes no rule");
        string name = r.String("name", rule == "gradient" ? kind.Name : rule == "pattern" ? "pattern_" + kind.Name : $"{rule}_{kind.Name}")!;
        long seed = r.Int("seed", (int)globalSeed, 0);
        var values = kind.Params.ToDictionary(p => p.Name, p => p.Default);
        var pr = r.Map("params");
        if (pr is not null)
        {
            foreach (var (key, keyNode, value) in pr.Entries())
            {
                var spec = kind.Params.FirstOrDefault(p => p.Name == key)
                    ?? throw YamlNodeReader.Error(file, keyNode, $"method '{kind.Name}' has no parameter '{key}'; its parameters: {(kind.Params.Count == 0 ? "none" : string.Join(", ", kind.Params.Select(p => $"{p.Name} ({p.Type.ToString().ToLowerInvariant()}, default {p.Default})")))}");
                values[key] = ParseParam(file, value, $"{pr.Path}.{key}", spec);
            }
        }
        r.RejectUnknown();
        return new ResolvedMethod(name, kind.Name, rule, values, seed);
    }

    /// <summary>{name, maps, ids}: maps made elsewhere. Paths are relative to the working directory, as every path of the config;
    /// the files are checked when the pipeline is planned, their rows against the dataset in Attribute.</summary>
    static ResolvedMethod Imported(string file, YamlNodeReader r, long globalSeed)
    {
        var fields = r.Entries().Select(e => e.Key).ToList();
        if (fields.FirstOrDefault(f => f is not ("name" or "maps" or "ids")) is { } other)
            throw YamlNodeReader.Error(file, r.NodeOf(other), $"'{r.Path}' reads its maps from a file ({{name, maps, ids}}), so it takes no '{other}'");
        string name = r.String("name") ?? throw YamlNodeReader.Error(file, r.Node, $"'{r.Path}' needs a 'name' for its maps, e.g. {{name: captum_ig, maps: maps.npy, ids: ids.npy}}");
        string maps = Path.GetFullPath(r.String("maps")!);
        string ids = Path.GetFullPath(r.String("ids") ?? throw YamlNodeReader.Error(file, r.Node,
            $"'{r.Path}' needs 'ids': an .npy naming, row by row, the image each map explains (PgIg image ids or file names)"));
        r.RejectUnknown();
        return new ResolvedMethod(name, ImportedMaps.KindName, "gradient", new Dictionary<string, object> { ["maps"] = maps, ["ids"] = ids }, globalSeed)
        {
            Where = $"{file}:{r.Node.Start.Line}:{r.Node.Start.Column}",
        };
    }

    static object ParseParam(string file, YamlNode node, string field, ParamSpec spec)
    {
        string v = (node as YamlScalarNode)?.Value ?? throw YamlNodeReader.Error(file, node, $"field '{field}' must be a {spec.Type.ToString().ToLowerInvariant()}");
        switch (spec.Type)
        {
            case ParamType.Int:
                if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && i >= 1) return i;
                throw YamlNodeReader.Error(file, node, $"field '{field}' must be a positive integer, got '{v}'");
            case ParamType.Double:
                if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && d >= 0) return d;
                throw YamlNodeReader.Error(file, node, $"field '{field}' must be a non-negative number, got '{v}'");
            case ParamType.Bool:
                return YamlNodeReader.ParseBool(file, node, field, v);
            default:
                throw new InvalidOperationException($"{spec.Type} parameters come from their own fields, not from params");
        }
    }
}
