using System.CommandLine;
using PgIg.Bench;
using TorchSharp;

namespace PgIg.Cli;

/// <summary>`pgig bench`: throughput, FLOP rate and peak memory per model and method (docs/BENCHMARKS.md).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "fashion-cnn, vgg16 or all", DefaultValueFactory = _ => "all" };
        model.AcceptOnlyFromAmong([.. BenchPlan.AllModels, "all"]);
        var methods = new Option<string?>("--methods")
        {
            Description = $"comma-separated method strings as in configs, each with optional overrides like sg_ig:steps=5:n_samples=5 (default: {string.Join(",", BenchMethods.Default)})",
        };
        var images = WholeNumbers.Optional("--images", "images per trial (default: 50 for fashion-cnn, 2 for vgg16; --quick: 8 and 1)");
        var batch = WholeNumbers.Optional("--batch", "images per method call (default: all images in one batch)");
        var budget = WholeNumbers.WithDefault("--memory-budget-mb", "the engine's chunking budget, as memory_budget_mb in configs", 1024);
        var threads = WholeNumbers.WithDefault("--threads", "torch intra-op threads (0: libtorch's default)", 0);
        var trials = WholeNumbers.Optional("--trials", "timed trials at most; best and median are kept (default 3, --quick 2)");
        var timeBudget = new Option<double?>("--time-budget") { Description = "seconds of timed trials after which no further trial starts (default 60, --quick 5)" };
        var seed = new Option<long>("--seed") { Description = "seed of the random weights, inputs and method draws", DefaultValueFactory = _ => 0 };
        var outFile = new Option<string?>("--out") { Description = "append the markdown result section to this file (it is always printed)" };
        var quick = new Option<bool>("--quick") { Description = "tiny sizes (IG steps=4, n_samples=2, few images) for CI and tests" };
        var noOriginal = new Option<bool>("--no-original") { Description = "skip the original-style autograd IG reference and the ratio" };
        var inProcess = new Option<bool>("--in-process") { Description = "run every unit in this process (peak RSS then includes what earlier units left allocated)" };
        var device = new Option<string>("--device") { Description = "cpu, cuda or auto (CUDA needs the -p:TorchBackend=cuda build; peak RSS is then host memory only)", DefaultValueFactory = _ => "cpu" };
        device.AcceptOnlyFromAmong([.. Util.Devices.Choices]);
        var profile = new Option<bool>("--profile") { Description = "instead of timing methods: per-layer forward and backward time of PgIg's gradient pass (chunks as the memory budget gives for --batch images × 24 IG steps)" };
        var degrade = new Option<bool>("--degrade")
        {
            Description = "instead of timing methods: degradation curves by the full engine and the incremental one, alternately (vgg16: 9×9 patches; fashion-cnn: 4×4, 49 steps)",
        };
        var steps = WholeNumbers.Optional("--steps", "with --degrade: curve points per image (default: vgg16 100, --quick 10; fashion-cnn 49)");
        var defaults = new Degradation.IncrementalTuning();
        var fullMapFraction = new Option<double>("--full-map-fraction")
        {
            Description = "with --degrade: the incremental engine computes a layer's whole map once its window covers more than this share of it",
            DefaultValueFactory = _ => defaults.FullMapFraction,
        };
        var windowThreads = WholeNumbers.WithDefault("--window-threads",
            "with --degrade: intra-op threads of the incremental engine's per-step windows (0: as --threads)", defaults.WindowThreads);
        var road = new Option<bool>("--road") { Description = "with --degrade: both engines replace patches by ROAD's noisy linear imputation instead of the patch mean" };
        var child = new Option<string?>("--child") { Description = "internal: run one unit (method, autograd or compare) and print its JSON", Hidden = true };

        var cmd = new Command("bench", "time every method on random-weight Fashion CNN and VGG16 models (images/s, passes/s, GFLOP/s, peak RSS)")
        {
            model, methods, images, batch, budget, threads, trials, timeBudget, seed, outFile, quick, noOriginal, inProcess, device, profile,
            degrade, steps, fullMapFraction, windowThreads, road, child,
        };
        cmd.SetAction((r, ct) => PgIgCli.Guard(() =>
        {
            int t = r.GetValue(threads);
            if (t < 0) throw new ArgumentException("--threads must be 0 (default) or positive");
            if (t > 0) torch.set_num_threads(t);
            if (r.GetValue(budget) < 16) throw new ArgumentException("--memory-budget-mb must be at least 16");
            if (r.GetValue(images) is < 1 || r.GetValue(batch) is < 1 || r.GetValue(trials) is < 1 || r.GetValue(timeBudget) is < 0)
                throw new ArgumentException("--images, --batch and --trials must be positive, --time-budget non-negative");
            string m = r.GetValue(model)!;
            var methodList = BenchMethods.Split(r.GetValue(methods));
            bool isQuick = r.GetValue(quick);
            foreach (var text in methodList) BenchMethods.Parse(text, isQuick, 0); // fail before any timing
            var plan = new BenchPlan(m == "all" ? BenchPlan.AllModels : [m], methodList, r.GetValue(images), r.GetValue(batch),
                (long)r.GetValue(budget) * 1024 * 1024, t, r.GetValue(trials), r.GetValue(timeBudget), isQuick, r.GetValue(seed),
                !r.GetValue(noOriginal), r.GetValue(inProcess), r.GetValue(device)!);
            Util.Devices.Resolve(plan.Device, "--device"); // fail before any timing

            if (r.GetValue(child) is { } kind)
            {
                BenchSuite.RunChild(kind, plan, Console.Out);
                return Task.FromResult(0);
            }

            if (r.GetValue(profile))
            {
                var profileMarkdown = LayerProfile.Run(plan, "pgig " + string.Join(" ", r.Tokens.Select(tok => tok.Value)));
                Console.WriteLine(profileMarkdown);
                if (r.GetValue(outFile) is { } profilePath) File.AppendAllText(profilePath, Environment.NewLine + profileMarkdown);
                return Task.FromResult(0);
            }

            var command = "pgig " + string.Join(" ", r.Tokens.Select(tok => tok.Value.Contains(' ') ? $"\"{tok.Value}\"" : tok.Value));
            bool degradeMode = r.GetValue(degrade);
            if (!degradeMode && (r.GetValue(steps) is not null || r.GetResult(fullMapFraction) is { Implicit: false } || r.GetResult(windowThreads) is { Implicit: false } || r.GetValue(road)))
                throw new ArgumentException("--steps, --full-map-fraction, --window-threads and --road apply only with --degrade");
            if (r.GetValue(windowThreads) < 0) throw new ArgumentException("--window-threads must be 0 (as --threads) or positive");
            if (r.GetValue(steps) is < 1) throw new ArgumentException("--steps must be positive");
            if (r.GetValue(fullMapFraction) is < 0 or > 1) throw new ArgumentException("--full-map-fraction must lie in [0, 1]");
            var markdown = degradeMode
                ? DegradeBench.Run(plan, r.GetValue(steps), new Degradation.IncrementalTuning(r.GetValue(fullMapFraction), r.GetValue(windowThreads)), command, Console.Error, r.GetValue(road))
                : BenchMarkdown.Format(BenchSuite.Run(plan, Console.Error), MachineInfo.Current(), command, DateTimeOffset.Now);
            Console.WriteLine(markdown);
            if (r.GetValue(outFile) is { } path)
            {
                var dir = Path.GetDirectoryName(Path.GetFullPath(path));
                if (dir is not null) Directory.CreateDirectory(dir);
                File.AppendAllText(path, (File.Exists(path) && new FileInfo(path).Length > 0 ? Environment.NewLine : "") + markdown);
                Console.Error.WriteLine($"appended to {path}");
            }
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
