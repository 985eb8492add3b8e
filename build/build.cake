// PgIg build: one Cake task per pipeline stage, one per method under Attribute and Degrade.
// Tasks run the `pgig` command (src/PgIg) per stage rather than loading the engine in-process:
// Cake scripts cannot load TorchSharp's native libraries without publishing them first, and a process
// per stage keeps the Cake host light. Skip decisions come from one `pgig plan --json` call at start-up,
// so Cake's summary shows each stage as Skipped when its artifacts are already cached.
#nullable enable
using System.Text.Json;

var target = Argument("target", "Plots");
var configuration = Argument("configuration", "Release");
var configFile = Argument("config", "pipeline.yaml");
var valSize = Argument<string?>("val-size", null);
var methodsArg = Argument<string?>("methods", null);
var cacheDir = Argument<string?>("cache-dir", null);
var resultsDir = Argument<string?>("results-dir", null);
var imagenetKey = Argument<string?>("imagenet-key", null);
var requireCached = HasArgument("require-cached");   // CI: fail if any stage would be recomputed
var cleanAll = HasArgument("all");

var root = MakeAbsolute(Directory("..")).FullPath;   // scripts run from build/
var pgigDll = $"{root}/src/PgIg/bin/{configuration}/net10.0/pgig.dll";
var stageTargets = new[] { "Fetch", "Data", "Train", "Patterns", "Preprocess", "Attribute", "Degrade", "Plots" };

// user paths are relative to the repository root (build.sh runs there); Cake itself runs in build/
string Abs(string path) => System.IO.Path.GetFullPath(path, root);

string CommonArgs()
{
    var a = new List<string> { $"--config \"{Abs(configFile)}\"" };
    if (valSize is not null) a.Add($"--val-size {valSize}");
    if (methodsArg is not null) a.Add($"--methods \"{methodsArg}\"");
    if (cacheDir is not null) a.Add($"--cache-dir \"{Abs(cacheDir)}\"");
    if (resultsDir is not null) a.Add($"--results-dir \"{Abs(resultsDir)}\"");
    if (imagenetKey is not null) a.Add($"--imagenet-key \"{imagenetKey}\"");
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

void PgigOrFail(string args)
{
    var code = StartProcess("dotnet", new ProcessSettings { Arguments = $"\"{pgigDll}\" {args}", WorkingDirectory = root });
    if (code != 0) throw new CakeException(code, $"pgig {args.Split(' ')[0]} {args.Split(' ').ElementAtOrDefault(1)} failed (exit {code})");
}

bool BuildIsCurrent()
{
    if (!FileExists(pgigDll)) return false;
    var built = System.IO.File.GetLastWriteTimeUtc(pgigDll);
    var sources = GetFiles($"{root}/src/**/*.cs").Concat(GetFiles($"{root}/src/**/*.csproj"))
        .Concat(GetFiles($"{root}/build/ElfVerneedFix/**/*.cs"))
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
        throw new CakeException(1, "pgig plan failed; see the message above");
    using var doc = JsonDocument.Parse(json.Split('\n').Last(l => l.TrimStart().StartsWith("{")));
    foreach (var m in doc.RootElement.GetProperty("methods").EnumerateArray()) methodNames.Add(m.GetString()!);
    foreach (var s in doc.RootElement.GetProperty("stages").EnumerateArray()) plan[s.GetProperty("name").GetString()!] = s.Clone();
    if (doc.RootElement.TryGetProperty("plots_dir", out var pd) && pd.ValueKind == JsonValueKind.String) plotsDir = pd.GetString();
    planResultsDir = doc.RootElement.GetProperty("results_dir").GetString();
}

bool IsFresh(string stage) => plan.TryGetValue(stage, out var s) && s.GetProperty("state").GetString() == "fresh" && s.GetProperty("known").GetBoolean();

void RunStage(string stage)
{
    if (requireCached)
        throw new CakeException(4, $"{stage} would be recomputed ({(plan.TryGetValue(stage, out var s) ? s.GetProperty("reason").ToString() : "unknown")}), but --require-cached was given");
    PgigOrFail($"run {stage} {CommonArgs()}");
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

var attribute = Task("Attribute").Description("Attribution maps for every configured method");
var degrade = Task("Degrade").Description("Degradation curves for every configured method");
foreach (var m in methodNames)
{
    StageTask($"Attribute:{m}").IsDependentOn("Preprocess");
    attribute.IsDependentOn($"Attribute:{m}");
    StageTask($"Degrade:{m}").IsDependentOn($"Attribute:{m}");
    degrade.IsDependentOn($"Degrade:{m}");
}
attribute.IsDependentOn("Preprocess");
degrade.IsDependentOn("Attribute");

Task("Plots")
    .Description("Degradation curves, summary and saliency figures into the results directory (default)")
    .IsDependentOn("Degrade")
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
            && System.Text.RegularExpressions.Regex.IsMatch(f.GetFilename().FullPath, @"^(degradation(_(lerf|random|morf))?|summary(_(lerf|morf))?|saliency)\.(csv|png|svg)$")))
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
    .Does(() => { EnsureBuilt(); PgigOrFail($"status {CommonArgs()}"); });

Task("Clean")
    .Description("Remove cached artifacts the config does not reference (--all: everything)")
    .Does(() => { EnsureBuilt(); PgigOrFail($"clean {(cleanAll ? "--all " : "")}{CommonArgs()}"); });

Task("Default").IsDependentOn("Plots");

RunTarget(target);
