// PgIg build: one Cake task per pipeline stage, one per method under Attribute and Degrade.
// Tasks run the `pgig` command (src/PgIg) per stage rather than loading the engine in-process:
// Cake scripts cannot load TorchSharp's native libraries without publishing them first, and a process
// per stage keeps the Cake host light. Skip decisions come from one `pgig plan --json` call at start-up,
// so Cake's summary shows each stage as Skipped when its artifacts are already cached.
#nullable enable
using System.Text.Json;

// ---- options: every argument must be one of these (Cake's own, such as --verbosity, never reach the script) ----
var options = new (string Name, string Value, string Help)[]
{
    ("target", "<target>", "what to run (default Plots; the targets above, any case)"),
    ("config", "<yaml>", "pipeline config (default pipeline.yaml)"),
    ("val-size", "N", "number of evaluation images (overrides val_size)"),
    ("methods", "a,b,...", "run a subset of the methods the config lists"),
    ("cache-dir", "DIR", "artifact cache (overrides cache_dir)"),
    ("results-dir", "DIR", "where CSVs and figures go (overrides results_dir)"),
    ("imagenet-key", "KEY", "ImageNet download key (or PGIG_IMAGENET_KEY)"),
    ("require-cached", "", "fail if any stage would be recomputed; CI uses it"),
    ("worker", "i/N", "be worker i of N (0-based; a cluster array task): its share of every stage up to the target, Plots skipped"),
    ("all", "", "with --target=Clean: remove the whole cache"),
    ("configuration", "Release|Debug", "how pgig is built (default Release)"),
    ("debug", "", "pgig prints the stack trace with an error (build.sh sets PGIG_DEBUG=1)"),
    ("help", "", "this help (also -h)"),
};
var targetHelp = new (string Name, string Help)[]
{
    ("Plots", "CSVs and figures into the results directory (default); runs every stage it needs"),
    ("Fetch", "download model weights and patterns (ImageNet track)"),
    ("Data", "locate or download the dataset"),
    ("Train", "train the model (tracks that train their model)"),
    ("Patterns", "estimate (Fashion-MNIST) or convert (ImageNet) the patterns"),
    ("Preprocess", "preprocess the evaluation images into shards"),
    ("Predict", "the clean prediction of every image (the class every method explains)"),
    ("Attribute", "attribution maps of every configured method; Attribute:<method> for one"),
    ("Degrade", "degradation curves of every configured method; Degrade:<method> for one"),
    ("Sanity", "cascading randomisation and class sensitivity (config section sanity); Sanity:<method> for one"),
    ("Status", "each stage as fresh, stale or missing, with the reason"),
    ("Clean", "remove cached artifacts the config does not reference (--all: everything)"),
    ("Test", "build and run the test suite"),
    ("Build", "build the pgig command (skipped when up to date)"),
};

// edit distance for "did you mean" (as pgig's config errors)
int Distance(string a, string b)
{
    var d = new int[a.Length + 1, b.Length + 1];
    for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
    for (int j = 0; j <= b.Length; j++) d[0, j] = j;
    for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
    return d[a.Length, b.Length];
}
string DidYouMean(string typed, IEnumerable<string> choices, string prefix = "")
{
    var best = choices.Select(c => (c, Distance(typed.ToLowerInvariant(), c.ToLowerInvariant()))).Where(x => x.Item2 <= Math.Max(2, typed.Length / 3))
        .OrderBy(x => x.Item2).Select(x => x.c).FirstOrDefault();
    return best is null ? "" : $" (did you mean {prefix}{best}?)";
}

if (HasArgument("show-help"))
{
    // build.sh / build.ps1 turn -h and --help into --show-help: Cake itself answers --help with its generic page
    Console.WriteLine("PgIg build: runs the pipeline stages as Cake tasks, each through the pgig command (README.md).");
    Console.WriteLine();
    Console.WriteLine("Usage: ./build.sh [--target=<target>] [options]        (Windows: ./build.ps1 ...)");
    Console.WriteLine();
    Console.WriteLine("Targets:");
    foreach (var (name, help) in targetHelp) Console.WriteLine($"  {name,-12} {help}");
    Console.WriteLine();
    Console.WriteLine("Options:");
    foreach (var (name, value, help) in options)
        Console.WriteLine($"  {"--" + name + (value.Length > 0 ? "=" + value : ""),-30} {help}");
    Console.WriteLine();
    Console.WriteLine("Examples:");
    Console.WriteLine("  ./build.sh --config=config/fashion-mnist.yaml                  # the quick start: every stage, then the figures");
    Console.WriteLine("  ./build.sh --target=Status --config=config/fashion-mnist.yaml  # what is cached, and why not");
    Console.WriteLine("  ./build.sh --target=Attribute:pattern_integrate_grad --config=config/fashion-mnist.yaml --val-size=100");
    Console.WriteLine("  ./build.sh --target=Plots --require-cached                     # CI: fail if anything would be recomputed");
    Console.WriteLine("  ./build.sh --worker=$SLURM_ARRAY_TASK_ID/4 --config=config/fashion-mnist.yaml --cache-dir=/shared/pgig-cache");
    Console.WriteLine("  ./build.sh --target=Test");
    Console.WriteLine();
    Console.WriteLine("The same stages without Cake: ./pgig --help. Cake's own options (--verbosity, --dryrun, --tree): dotnet cake --help.");
    return;
}

var unknownOptions = Context.Arguments.GetArguments().Keys
    .Where(k => !options.Any(o => o.Name.Equals(k, StringComparison.OrdinalIgnoreCase)) && !k.Equals("show-help", StringComparison.OrdinalIgnoreCase)).ToList();
if (unknownOptions.Count > 0)
    throw new CakeException(2, $"unknown option{(unknownOptions.Count > 1 ? "s" : "")} {string.Join(", ", unknownOptions.Select(u => "--" + u + DidYouMean(u, options.Select(o => o.Name), "--")))}. " +
        $"Valid options: {string.Join(", ", options.Select(o => "--" + o.Name))}. See ./build.sh --help.");

// targets are case-insensitive (Cake's are): resolve to the canonical name, so that --target=plots plans like --target=Plots
string ResolveTarget(string typed)
{
    var parts = typed.Split(':', 2);
    var names = targetHelp.Select(t => t.Name).Append("Default");
    var group = names.FirstOrDefault(n => n.Equals(parts[0], StringComparison.OrdinalIgnoreCase));
    if (group is null || parts.Length == 2 && group is not ("Attribute" or "Degrade" or "Sanity"))
        throw new CakeException(2, $"unknown target '{typed}'{DidYouMean(parts[0], names)}. Valid targets: {string.Join(", ", targetHelp.Select(t => t.Name))}, " +
            "Attribute:<method>, Degrade:<method> and Sanity:<method> (a method the config lists). See ./build.sh --help.");
    // Default is Plots by another name; as Plots it gets the plan and the per-method tasks
    return parts.Length == 2 ? $"{group}:{parts[1]}" : group == "Default" ? "Plots" : group;
}

var target = ResolveTarget(Argument("target", "Plots"));
var configuration = Argument("configuration", "Release");
var configFile = Argument("config", "pipeline.yaml");
var valSize = Argument<string?>("val-size", null);
var methodsArg = Argument<string?>("methods", null);
var cacheDir = Argument<string?>("cache-dir", null);
var resultsDir = Argument<string?>("results-dir", null);
var imagenetKey = Argument<string?>("imagenet-key", null);
var requireCached = HasArgument("require-cached");   // CI: fail if any stage would be recomputed
var cleanAll = HasArgument("all");
var worker = Argument<string?>("worker", null);

var root = MakeAbsolute(Directory("..")).FullPath;   // scripts run from build/
var pgigDll = $"{root}/src/PgIg/bin/{configuration}/net10.0/pgig.dll";
var stageTargets = new[] { "Fetch", "Data", "Train", "Patterns", "Preprocess", "Predict", "Attribute", "Degrade", "Sanity", "Plots" };

// user paths are relative to the repository root (build.sh runs there); Cake itself runs in build/
string Abs(string path) => System.IO.Path.GetFullPath(path, root);

// shown: the paths as the user typed them (relative to the repository root, where ./pgig runs), the key hidden
string CommonArgs(bool shown = false)
{
    string P(string path) => shown ? (path.Contains(' ') ? $"\"{path}\"" : path) : $"\"{Abs(path)}\"";
    var a = new List<string> { $"--config {P(configFile)}" };
    if (valSize is not null) a.Add($"--val-size {valSize}");
    if (methodsArg is not null) a.Add($"--methods \"{methodsArg}\"");
    if (cacheDir is not null) a.Add($"--cache-dir {P(cacheDir)}");
    if (resultsDir is not null) a.Add($"--results-dir {P(resultsDir)}");
    if (imagenetKey is not null) a.Add($"--imagenet-key {(shown ? "<key>" : $"\"{imagenetKey}\"")}");
    return string.Join(" ", a);
}

// Config paths (cache_dir, data paths) are relative to where the user runs build.sh: the repository root.
int Pgig(string args, out string stdout)
{
    var settings = new ProcessSettings { Arguments = $"\"{pgigDll}\" {args}", WorkingDirectory = root, RedirectStandardOutput = true };
    using var p = StartAndReturnProcess("dotnet", settings);
    p.WaitForExit();
    stdout = string.Join("\n", p.GetStandardOutput());
    return p.GetExitCode();
}

// verb: the pgig words before the common options (e.g. "run Plots"); the failure line names the whole command
void PgigOrFail(string verb)
{
    var code = StartProcess("dotnet", new ProcessSettings { Arguments = $"\"{pgigDll}\" {verb} {CommonArgs()}", WorkingDirectory = root });
    if (code != 0)
        throw new CakeException(code, $"`./pgig {verb} {CommonArgs(shown: true)}` failed (exit {code}); its message is above, and --debug adds the stack trace");
}

bool BuildIsCurrent()
{
    if (!FileExists(pgigDll)) return false;
    var built = System.IO.File.GetLastWriteTimeUtc(pgigDll);
    var sources = GetFiles($"{root}/src/**/*.cs").Concat(GetFiles($"{root}/src/**/*.csproj"))
        .Concat(GetFiles($"{root}/build/ElfVerneedFix/**/*.cs")).Concat(GetFiles($"{root}/build/slurm/*.sbatch")) // embedded in pgig
        .Concat(new[] { File($"{root}/Directory.Build.props").Path, File($"{root}/Directory.Packages.props").Path, File($"{root}/Directory.Build.targets").Path })
        .Where(f => !f.FullPath.Contains("/obj/") && !f.FullPath.Contains("/bin/"));
    return sources.All(f => System.IO.File.GetLastWriteTimeUtc(f.FullPath) <= built);
}

void EnsureBuilt()
{
    if (BuildIsCurrent()) return;
    Information("Building pgig ({0})", configuration);
    DotNetBuild($"{root}/src/PgIg/PgIg.csproj", new DotNetBuildSettings { Configuration = configuration, NoLogo = true });
}

// ---- the plan: stage list and cache state, read once ----
var plan = new Dictionary<string, JsonElement>();
var methodNames = new List<string>();
string? plotsDir = null;
string? planResultsDir = null;
bool pipelineTarget = stageTargets.Contains(target.Split(':')[0]);
if (pipelineTarget)
{
    EnsureBuilt();
    if (Pgig($"plan --json {CommonArgs()}", out var json) != 0)
        throw new CakeException(1, $"`./pgig plan {CommonArgs(shown: true)}` failed; its message is above");
    using var doc = JsonDocument.Parse(json.Split('\n').Last(l => l.TrimStart().StartsWith("{")));
    foreach (var m in doc.RootElement.GetProperty("methods").EnumerateArray()) methodNames.Add(m.GetString()!);
    foreach (var s in doc.RootElement.GetProperty("stages").EnumerateArray()) plan[s.GetProperty("name").GetString()!] = s.Clone();
    if (doc.RootElement.TryGetProperty("plots_dir", out var pd) && pd.ValueKind == JsonValueKind.String) plotsDir = pd.GetString();
    planResultsDir = doc.RootElement.GetProperty("results_dir").GetString();
    if (target.Split(':') is [var group, var method])
    {
        var known = methodNames.FirstOrDefault(m => m.Equals(method, StringComparison.OrdinalIgnoreCase))
            ?? throw new CakeException(2, $"target '{target}': the config {configFile} lists no method '{method}'{DidYouMean(method, methodNames)}; its methods: {string.Join(", ", methodNames)}");
        target = $"{group}:{known}";
    }
}

bool IsFresh(string stage) => plan.TryGetValue(stage, out var s) && s.GetProperty("state").GetString() == "fresh" && s.GetProperty("known").GetBoolean();

// why a stage is not fresh, never blank: the plan's reason, else its state and cached unit count
string WhyNotFresh(string stage)
{
    if (!plan.TryGetValue(stage, out var s)) return "it is not in the plan";
    if (!s.GetProperty("known").GetBoolean()) return "its units are known only once the Data stage has run";
    var reason = s.GetProperty("reason").ValueKind == JsonValueKind.String ? s.GetProperty("reason").GetString() : null;
    var units = $"{s.GetProperty("fresh").GetInt32()} of {s.GetProperty("total").GetInt32()} units cached";
    return $"{s.GetProperty("state").GetString()}, {units}{(string.IsNullOrWhiteSpace(reason) ? "" : ": " + reason)}";
}

void RunStage(string stage)
{
    if (requireCached)
        throw new CakeException(4, $"{stage} would be recomputed ({WhyNotFresh(stage)}), but --require-cached was given");
    PgigOrFail($"run {stage}");
}

// a stage without units for this config (Fetch on the Fashion-MNIST track) is "nothing to do", not "cached"
string SkipReason(string name) =>
    plan.TryGetValue(name, out var s) && s.GetProperty("total").GetInt32() == 0 ? $"{name}: nothing to do for this config" : $"{name} is cached";

// Cake refuses a target whose own criteria fail ("could not reach target"), so the target stage itself
// checks freshness in its action instead
CakeTaskBuilder StageTask(string name) => string.Equals(name, target, StringComparison.OrdinalIgnoreCase)
    ? Task(name).Does(() => { if (IsFresh(name)) Information(SkipReason(name)); else RunStage(name); })
    : Task(name).WithCriteria(() => !IsFresh(name), SkipReason(name)).Does(() => RunStage(name));

// ---- tasks ----
Task("Build")
    .Description("Build the pgig command (skipped when up to date)")
    .Does(EnsureBuilt);

StageTask("Fetch").Description("Download model weights and patterns (ImageNet track)").IsDependentOn("Build");
StageTask("Data").Description("Locate or download the dataset").IsDependentOn("Fetch");
StageTask("Train").Description("Train the model (tracks that train their model)").IsDependentOn("Data");
StageTask("Patterns").Description("Compute or convert PatternNet patterns").IsDependentOn("Train");
StageTask("Preprocess").Description("Preprocess the evaluation images into shards").IsDependentOn("Patterns");
StageTask("Predict").Description("Clean prediction of every image, shared by all methods").IsDependentOn("Preprocess");

var attribute = Task("Attribute").Description("Attribution maps for every configured method");
var degrade = Task("Degrade").Description("Degradation curves for every configured method");
foreach (var m in methodNames)
{
    StageTask($"Attribute:{m}").IsDependentOn("Predict");
    attribute.IsDependentOn($"Attribute:{m}");
    StageTask($"Degrade:{m}").IsDependentOn($"Attribute:{m}");
    degrade.IsDependentOn($"Degrade:{m}");
}
attribute.IsDependentOn("Predict");
degrade.IsDependentOn("Attribute");
// the random order ignores the maps: one stage for all methods, when degrade.orders lists it
const string RandomOrderStage = "Degrade:random_order";
if (plan.ContainsKey(RandomOrderStage))
{
    StageTask(RandomOrderStage).IsDependentOn("Predict");
    degrade.IsDependentOn(RandomOrderStage);
}

// the sanity check (config section sanity): one stage per method after its maps, plus the patterns re-estimated for the
// randomised models (Sanity:patterns, shared by the pattern methods); none when the config has no sanity section
var sanity = Task("Sanity").Description("Cascading randomisation and class sensitivity for every configured method");
const string SanityPatternsStage = "Sanity:patterns";
if (plan.ContainsKey(SanityPatternsStage))
{
    StageTask(SanityPatternsStage).IsDependentOn("Patterns");
    sanity.IsDependentOn(SanityPatternsStage);
}
foreach (var m in methodNames.Where(m => plan.ContainsKey($"Sanity:{m}")))
{
    StageTask($"Sanity:{m}").IsDependentOn($"Attribute:{m}");
    sanity.IsDependentOn($"Sanity:{m}");
}
sanity.IsDependentOn("Degrade");

Task("Plots")
    .Description("Degradation curves, summary and saliency figures into the results directory (default)")
    .IsDependentOn("Sanity")
    .Does(() =>
    {
        if (!IsFresh("Plots")) { RunStage("Plots"); return; }
        // cached: only refresh the results directory from the cached artifact
        var dest = Directory(planResultsDir!).Path;
        EnsureDirectoryExists(dest);
        var cached = GetFiles($"{plotsDir}/*").Where(f => f.GetFilename().FullPath != "manifest.json").ToList();
        // as pgig's Reports.Publish: drop result files of an earlier config that this one does not make
        var names = cached.Select(f => f.GetFilename().FullPath).ToHashSet();
        foreach (var old in GetFiles($"{dest.FullPath}/*").Where(f => !names.Contains(f.GetFilename().FullPath)
            && System.Text.RegularExpressions.Regex.IsMatch(f.GetFilename().FullPath, @"^((degradation(_(lerf|random|morf|insertion))?(_road)?|summary(_(lerf|morf|insertion))?(_road)?|saliency)\.(csv|png|svg)|pairwise(_road)?\.csv|pairwise_(morf|lerf|insertion)(_road)?\.(png|svg)|report\.html|sanity(_class)?\.csv|sanity_(maps|spearman_abs|spearman|ssim)\.(png|svg))$")))
            DeleteFile(old);
        foreach (var f in cached) CopyFile(f, dest.CombineWithFilePath(f.GetFilename()));
        var shown = System.IO.Path.GetRelativePath(System.Environment.CurrentDirectory, dest.FullPath);
        Information("Plots is cached; results copied to {0}", shown.StartsWith("..") ? dest.FullPath : shown); // as pgig prints it
    });

Task("Test")
    .Description("Build and run the xunit test suite")
    .Does(() =>
    {
        var trxDir = $"{root}/TestResults";
        CleanDirectory(trxDir);
        Exception? failure = null;
        try
        {
            DotNetTest($"{root}/PgIg.sln", new DotNetTestSettings
            {
                Configuration = configuration, NoLogo = true, ResultsDirectory = trxDir, Loggers = new[] { "trx;LogFileName=tests.trx" },
            });
        }
        catch (Exception e) { failure = e; }
        // one plain closing line that CI systems read: "N passed, N failed"
        foreach (var trx in GetFiles($"{trxDir}/**/*.trx"))
        {
            var counters = System.Xml.Linq.XDocument.Load(trx.FullPath).Descendants().First(e => e.Name.LocalName == "Counters");
            // plain Console: Cake's Information() colours the numbers, which breaks line-matching CI readers
            Console.WriteLine($"{counters.Attribute("passed")?.Value} passed, {counters.Attribute("failed")?.Value} failed, " +
                $"{int.Parse(counters.Attribute("total")!.Value) - int.Parse(counters.Attribute("executed")!.Value)} skipped");
        }
        if (failure is not null) throw failure;
    });

Task("Status")
    .Description("Print each stage as fresh, stale or missing, with the reason")
    .Does(() => { EnsureBuilt(); PgigOrFail("status"); });

Task("Clean")
    .Description("Remove cached artifacts the config does not reference (--all: everything)")
    .Does(() => { EnsureBuilt(); PgigOrFail(cleanAll ? "clean --all" : "clean"); });

Task("Default").IsDependentOn("Plots");

// --worker=i/N: this build is one of N workers sharing a cache (a Slurm array task, a Kubernetes Pod). One
// `pgig run <target> --worker i/N` computes its share of every stage up to the target, the shared units under
// their locks; Plots needs every worker's shards, so it is not a worker's: it is skipped here, and
// ./build.sh --target=Plots without --worker makes the figures once all N are done.
Task("Worker")
    .Description("With --worker=i/N: worker i's share of every stage up to the target (Plots skipped)")
    .IsDependentOn("Build")
    .Does(() =>
    {
        PgigOrFail($"run {target} --worker {worker}{(requireCached ? " --require-cached" : "")}");
        if (target == "Plots")
            Information("Plots skipped: a worker computes only its shards; once every worker is done, run ./build.sh --target=Plots without --worker (it computes only the figures)");
    });
if (worker is not null && !pipelineTarget)
    throw new CakeException(2, $"--worker applies to the pipeline targets ({string.Join(", ", stageTargets)}), not {target}");

RunTarget(worker is null ? target : "Worker");
