using System.CommandLine;
using System.Text.Json;
using PgIg.Config;
using PgIg.Pipeline;
using PgIg.Reporting;
using PgIg.Stages;
using PgIg.Tracks;

namespace PgIg.Cli;

/// <summary>The `pgig` command: one subcommand per pipeline operation. Cake tasks call `pgig run &lt;Stage&gt;`.</summary>
public static class PgIgCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = CreateRoot();
        var parsed = root.Parse(args);
        DebugOutput.Value = parsed.GetValue<bool>("--debug") || Environment.GetEnvironmentVariable("PGIG_DEBUG") == "1";
        if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction onError)
        {
            // the error itself (with "did you mean" corrections), not the whole help page after it
            onError.ShowHelp = false;
            int code = await parsed.InvokeAsync();
            Console.Error.WriteLine($"See '{string.Join(" ", ["pgig", .. CommandPath(parsed.CommandResult.Command, root)])} --help' for the options.");
            return code;
        }
        return await parsed.InvokeAsync();
    }

    /// <summary>Every command with its options and actions. Parsing with it runs nothing, so a command line written
    /// elsewhere (the Slurm script, the Kubernetes manifests) can be checked against the real CLI.</summary>
    public static RootCommand CreateRoot()
    {
        var common = new CommonOptions();
        var root = new RootCommand("PgIg: Pattern-Guided Integrated Gradients reproduction pipeline");

        var stageArg = new Argument<string>("stage") { Description = "Fetch, Data, Train, Patterns, Preprocess, Attribute:<method>, Degrade:<method>, Sanity:<method> or Plots" };
        var shardOpt = WholeNumbers.Optional("--shard", "compute only this shard (for separate worker processes)");
        var requireCached = new Option<bool>("--require-cached") { Description = "fail (exit 4) instead of computing anything: checks that a run is fully cached" };
        var workerOpt = new Option<string?>("--worker")
        {
            Description = "i/N: compute worker i's share of N (0-based): in every stage up to <stage>, the shards ≡ i mod N, plus shared upstream units; Plots runs after the workers (e.g. a Slurm array task: --worker $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)",
        };
        var run = new Command("run", "compute one stage, or every stage of a group such as Attribute (and any missing upstream units)") { stageArg, shardOpt, workerOpt, requireCached };
        common.AddTo(run);
        run.SetAction((r, ct) => Guard(async () =>
        {
            var worker = r.GetValue(workerOpt) is { } w ? ParseWorker(w) : ((int, int)?)null;
            if (worker is not null && r.GetValue(shardOpt) is not null)
                throw new ArgumentException("--worker and --shard exclude each other: a worker chooses its shards itself");
            var (plan, ctx) = Open(common.Load(r));
            var stage = r.GetValue(stageArg)!;
            plan.Cache.EnsureWritable();
            // while this runs, `pgig clean` (with any config) keeps every artifact this plan reads or writes
            var lease = RunLease.Acquire(plan.Cache, plan.AllKeys());
            using var releaseLease = new Disposer(() => lease.Dispose());
            if (plan.Resolve(stage).Any(s => s.Group == "Plots")) WritableDirectory.Ensure(plan.Config.ResultsDir, "results_dir (or --results-dir)");
            // Ctrl-C / kill: say what survives; the unit being written is discarded (its temporary directory is
            // removed by the next run of that unit or by pgig clean)
            using var onInt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Interrupted);
            using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Interrupted);
            if (plan.Resolve(stage).Any(s => !s.Known))
            {
                if (r.GetValue(requireCached))
                {
                    Console.Error.WriteLine("pgig: the Data stage would be computed (the evaluation set is not known yet), but --require-cached was given");
                    return 4;
                }
                await plan.RunAsync("Data");
                (plan, ctx) = Open(plan.Config);
                var planned = RunLease.Acquire(plan.Cache, plan.AllKeys()); // now with the shard keys
                lease.Dispose();
                lease = planned;
            }
            var stages = plan.Resolve(stage);
            if (worker is var (wi, wn))
            {
                try
                {
                    var (computed, cached) = await plan.RunWorkerAsync(stage, wi, wn, r.GetValue(requireCached));
                    Console.WriteLine($"worker {wi}/{wn}: {computed} unit(s) computed, {cached} cached, up to {stage}" +
                        (stages.Any(s => s.Group == "Plots") ? "; run `pgig run Plots` once every worker is done" : ""));
                }
                catch (NotCachedException e)
                {
                    Console.Error.WriteLine($"pgig: {e.Message}");
                    return 4;
                }
                return 0;
            }
            if (stages.Count > 1 && r.GetValue(shardOpt) is not null)
                throw new ArgumentException($"--shard needs one stage, e.g. {stages[0].Name}; {stage} stands for {stages.Count} stages");
            foreach (var s in stages)
            {
                try
                {
                    var (computed, cached) = await plan.RunAsync(s.Name, r.GetValue(shardOpt), r.GetValue(requireCached));
                    ProgressSinks.Finish();
                    Console.WriteLine($"{s.Name}: {computed} unit(s) computed, {cached} cached");
                }
                catch (NotCachedException e)
                {
                    Console.Error.WriteLine($"pgig: {e.Message}");
                    return 4;
                }
                if (s.Group == "Plots" && r.GetValue(shardOpt) is null)
                    PublishResults(plan);
            }
            return 0;
        }));

        var jsonOpt = new Option<bool>("--json") { Description = "machine-readable output (for the Cake build)" };
        var plan = new Command("plan", "list the stages of a config with their cache state") { jsonOpt };
        common.AddTo(plan);
        plan.SetAction((r, ct) => Guard(() =>
        {
            var (p, _) = Open(common.Load(r));
            var status = p.Status();
            if (r.GetValue(jsonOpt))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    methods = p.Config.Methods.Select(m => m.Name),
                    plots_dir = p.PlotsKey is null ? null : p.Cache.DirectoryOf(p.PlotsKey),
                    results_dir = Path.GetFullPath(p.Config.ResultsDir),
                    stages = status.Select(s => new { name = s.Stage, group = p.Get(s.Stage).Group, state = s.State.ToString().ToLowerInvariant(), fresh = s.FreshUnits, total = s.TotalUnits, running = s.RunningUnits, known = p.Get(s.Stage).Known, reason = s.Reason,
                        units = p.Get(s.Stage).Units.Select(u => new { slot = u.Key.Slot, key = u.Key.Hash }) }),
                }));
            }
            else PrintStatus(p, status);
            return Task.FromResult(0);
        }));

        var requireFresh = new Option<bool>("--require-fresh") { Description = "exit 3 unless every stage is fresh" };
        var verifyOpt = new Option<bool>("--verify") { Description = "hash every file of every artifact instead of trusting unchanged sizes and modification times" };
        var status = new Command("status", "print each stage as fresh, stale or missing, with the reason") { requireFresh, verifyOpt };
        common.AddTo(status);
        status.SetAction((r, ct) => Guard(() =>
        {
            var (p, _) = Open(common.Load(r));
            var st = p.Status(r.GetValue(verifyOpt));
            PrintStatus(p, st);
            return Task.FromResult(r.GetValue(requireFresh) && st.Any(s => s.State != Freshness.Fresh) ? 3 : 0);
        }));

        var verify = new Command("verify", "hash every artifact in the config's cache against its manifest and list the damaged ones (exit 5 if any)");
        common.AddTo(verify);
        verify.SetAction((r, ct) => Guard(() =>
        {
            var cfg = common.Load(r);
            // the whole cache, not only this plan's keys: a damaged Data artifact hides the shards' keys
            var (verified, damaged) = new ArtifactCache(cfg.CacheDir).VerifyAll();
            foreach (var (slot, _, reason) in damaged) Console.WriteLine($"damaged: {slot}: {reason}");
            Console.WriteLine(damaged.Count == 0
                ? $"{verified} artifacts verified, none damaged"
                : $"{verified} artifacts verified, {damaged.Count} damaged; the next run of their stages recomputes them (`pgig run Plots`, or ./build.sh)");
            return Task.FromResult(damaged.Count == 0 ? 0 : 5);
        }));

        var allOpt = new Option<bool>("--all") { Description = "remove the whole cache" };
        var clean = new Command("clean", "remove cached artifacts that the current config does not reference") { allOpt };
        common.AddTo(clean);
        clean.SetAction((r, ct) => Guard(() =>
        {
            var cfg = common.Load(r);
            if (r.GetValue(allOpt))
            {
                var removed = CacheCleaner.RemoveAll(cfg.CacheDir);
                Console.WriteLine($"removed the whole cache {cfg.CacheDir} ({removed} artifacts)");
                return Task.FromResult(0);
            }
            var (p, _) = Open(cfg);
            var (kept, gone, bytes, inUse) = CacheCleaner.RemoveUnreferenced(p.Cache, p.AllKeys());
            Console.WriteLine($"kept {kept} artifacts referenced by {cfg.SourceFile}; removed {gone} ({bytes / 1e6:0.0} MB)" +
                (inUse > 0 ? $"; left {inUse} temporary director{(inUse == 1 ? "y" : "ies")} that a running pgig process is writing" : ""));
            return Task.FromResult(0);
        }));

        root.Subcommands.Add(run);
        root.Subcommands.Add(plan);
        root.Subcommands.Add(status);
        root.Subcommands.Add(clean);
        root.Subcommands.Add(verify);
        foreach (var extra in ExtraCommands.Create(common)) root.Subcommands.Add(extra);
        var debug = new Option<bool>("--debug") { Description = "on an error, print the stack trace as well (or set PGIG_DEBUG=1)", Recursive = true };
        root.Options.Add(debug);
        return root;
    }

    static void Interrupted(System.Runtime.InteropServices.PosixSignalContext c)
    {
        ProgressSinks.Finish(); // give the terminal its cursor back
        Console.Error.WriteLine($"pgig: {c.Signal} received; finished units stay cached, and rerunning the same command resumes from them");
    }

    static IEnumerable<string> CommandPath(Command c, RootCommand root)
    {
        var names = new List<string>();
        for (var r = c; r is not null && r != root; r = r.Parents.OfType<Command>().FirstOrDefault()) names.Insert(0, r.Name);
        return names;
    }

    /// <summary>"i/N" of --worker, checked before any stage runs.</summary>
    public static (int Index, int Count) ParseWorker(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i)
            || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n))
            throw new ArgumentException($"--worker '{text}' is not i/N (worker index / number of workers, e.g. 0/4)");
        if (n < 1) throw new ArgumentException($"--worker {text}: the number of workers N must be at least 1");
        if (i >= n) throw new ArgumentException($"--worker {text}: the worker index must be 0…{n - 1} (it counts from 0)");
        return (i, n);
    }

    internal static (PipelinePlan Plan, StageContext Ctx) Open(PipelineConfig cfg)
    {
        var device = TorchSetup.Configure(cfg);
        var cache = new ArtifactCache(cfg.CacheDir);
        var (progress, log) = ProgressSinks.ForConsole(); // live bars on a terminal, plain lines in logs
        var ctx = new StageContext(cfg, cache, log, new HttpClient { Timeout = TimeSpan.FromMinutes(30) }) { Device = device, Progress = progress };
        ITrack track = TrackFactory.Create(cfg);
        return (new PipelinePlan(cfg, track, ctx), ctx);
    }

    static void PublishResults(PipelinePlan p)
    {
        var files = Reports.Publish(p.Cache.DirectoryOf(p.PlotsKey!), p.Config.ResultsDir);
        // relative to the working directory when inside it, else absolute
        static string Shown(string f) => Path.GetRelativePath(Environment.CurrentDirectory, f) is var r && !r.StartsWith("..", StringComparison.Ordinal) ? r : Path.GetFullPath(f);
        Console.WriteLine($"results: {string.Join(", ", files.Select(Shown))}");
    }

    static void PrintStatus(PipelinePlan p, IReadOnlyList<StageStatus> st)
    {
        StatusTable.Write(StatusTable.ForStdout(), st);
        int leftovers = CacheCleaner.Leftovers(p.Cache.Root);
        if (leftovers > 0)
            Console.WriteLine($"{leftovers} temporary director{(leftovers == 1 ? "y" : "ies")} left by interrupted runs in {p.Cache.Root}; `pgig clean` (or rerunning those units) removes them");
    }

    /// <summary>Set from `--debug` (or PGIG_DEBUG=1) per invocation; async-local so that in-process callers (tests) do not share it.</summary>
    static readonly AsyncLocal<bool> DebugOutput = new();

    /// <summary>Turns any failure into one clear message and exit code 1; the stack trace only with --debug.</summary>
    internal static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            int code = await body();
            ProgressSinks.Finish();
            return code;
        }
        catch (Exception e)
        {
            ProgressSinks.Finish(); // the message goes below the bars, not into them
            var (message, expected) = ErrorReport.Describe(e);
            Console.Error.WriteLine(expected ? $"pgig: error: {message}" : $"pgig: internal error: {message}");
            if (DebugOutput.Value) Console.Error.WriteLine(e);
            return 1;
        }
    }

    /// <summary>Runs an action on dispose (for a resource that is replaced while in use).</summary>
    sealed class Disposer(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
