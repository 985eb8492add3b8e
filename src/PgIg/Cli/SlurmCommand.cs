using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using PgIg.Config;

namespace PgIg.Cli;

/// <summary>
/// `pgig slurm`: submits a run as a Slurm array job of N workers (build/slurm/pgig.sbatch, task i running
/// `pgig run Plots --worker i/N`) and a Plots job that starts once every task has succeeded.
/// </summary>
public static class SlurmCommand
{
    /// <summary>The batch script, embedded so that an installed pgig (a container image) can submit without the repository.</summary>
    public static string Script()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("pgig.sbatch")
            ?? throw new InvalidOperationException("pgig.sbatch is not embedded in this build");
        return new StreamReader(s).ReadToEnd();
    }

    public static Command Create(CommonOptions common)
    {
        var workers = WholeNumbers.WithDefault("--workers", "N: the number of array tasks, each computing every N-th shard of every stage", 4);
        var tasks = new Option<string?>("--tasks") { Description = "submit only these tasks of the N, e.g. 3 or 1,4-5: resubmits failed or cancelled ones (with a new Plots job after them)" };
        var maxParallel = WholeNumbers.Optional("--max-parallel", "at most this many tasks at once (sbatch --array=...%K)");
        var partition = new Option<string?>("--partition") { Description = "Slurm partition (sbatch --partition)" };
        var time = new Option<string?>("--time") { Description = "time limit of each job, e.g. 4:00:00 or 2-00:00:00 (sbatch --time)" };
        var cpus = WholeNumbers.Optional("--cpus-per-task", "CPUs of each array task (sbatch --cpus-per-task); libtorch uses the CPUs Slurm binds the task to");
        var mem = new Option<string?>("--mem") { Description = "memory of each job, e.g. 16G (sbatch --mem)" };
        var gpus = WholeNumbers.WithDefault("--gpus", "GPUs of each array task (sbatch --gres=gpu:G); needs device: cuda or auto and the CUDA build", 0);
        var account = new Option<string?>("--account") { Description = "Slurm account to charge (sbatch --account)" };
        var logDir = new Option<string>("--log-dir") { Description = "where the jobs' output and the submitted copy of pgig.sbatch go", DefaultValueFactory = _ => "slurm-logs" };
        var extra = new Option<string[]>("--sbatch-arg") { Description = "a further sbatch option for both jobs, e.g. --sbatch-arg=--qos=long (repeatable)", DefaultValueFactory = _ => [] };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the sbatch commands instead of writing the script and submitting" };
        var cmd = new Command("slurm", "submit the run to Slurm: an array job of N workers, then a Plots job after them (README, \"Running on a cluster\")")
            { workers, tasks, maxParallel, partition, time, cpus, mem, gpus, account, logDir, extra, dryRun };
        common.AddTo(cmd);
        cmd.SetAction((r, ct) => PgIgCli.Guard(() =>
        {
            var cfg = common.Load(r); // a bad config fails here, not after hours in the queue
            var job = new SlurmJob
            {
                Config = cfg, Workers = r.GetValue(workers), Tasks = r.GetValue(tasks), MaxParallel = r.GetValue(maxParallel),
                Partition = r.GetValue(partition), Time = r.GetValue(time), CpusPerTask = r.GetValue(cpus), Mem = r.GetValue(mem),
                Gpus = r.GetValue(gpus), Account = r.GetValue(account), LogDir = Path.GetFullPath(r.GetValue(logDir)!), SbatchArgs = r.GetValue(extra)!,
                ValSize = r.GetValue(common.ValSize), Methods = r.GetValue(common.Methods), Pgig = PgigCommand(),
                WorkingDirectory = Environment.CurrentDirectory,
            };
            job.Validate();
            return Task.FromResult(Submit(job, r.GetValue(dryRun), r.GetValue(common.ImageNetKey)));
        }));
        return cmd;
    }

    /// <summary>How the jobs start this pgig: PGIG from the environment, else the running build itself.</summary>
    static string PgigCommand()
    {
        if (Environment.GetEnvironmentVariable("PGIG") is { Length: > 0 } fromEnv) return fromEnv;
        var exe = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(exe) == "dotnet" ? $"{exe} {typeof(SlurmCommand).Assembly.Location}" : exe;
    }

    static int Submit(SlurmJob job, bool dryRun, string? imagenetKey)
    {
        string script = Path.Combine(job.LogDir, "pgig.sbatch");
        Console.WriteLine($"cache {job.CacheDir} ({FileSystems.TypeOf(job.CacheDir) ?? "unknown file system"}); {job.Workers} workers");
        if (FileSystems.LocalNote(job.CacheDir, job.Workers) is { } note) Console.WriteLine($"note: {note}");
        if (dryRun)
        {
            Console.WriteLine($"dry run: would write {script} (build/slurm/pgig.sbatch) and run");
            Console.WriteLine("  array=$(" + Shell.Join(["sbatch", "--parsable", .. job.ArrayArgs(script)]) + ")");
            // the dependency names the shell variable, so the two lines can be pasted as they are
            var plots = job.PlotsArgs(script, "$array");
            Console.WriteLine($"  sbatch {plots[0]} {Shell.Join(plots.Skip(1))}");
            return 0;
        }
        Directory.CreateDirectory(job.LogDir);
        File.WriteAllText(script, Script());
        // the key reaches the jobs through the environment (sbatch exports it), never on a command line squeue shows
        var env = imagenetKey is null ? null : new Dictionary<string, string> { ["PGIG_IMAGENET_KEY"] = imagenetKey };
        string arrayId = Sbatch(job.ArrayArgs(script), env);
        Console.WriteLine($"submitted array job {arrayId}: tasks {job.ArraySpec}, each `pgig run Plots --worker i/{job.Workers}`");
        string plotsId = Sbatch(job.PlotsArgs(script, arrayId), env);
        Console.WriteLine($"submitted Plots job {plotsId}: starts once every task of {arrayId} has succeeded (and is cancelled if one fails)");
        Console.WriteLine($"logs: {job.LogDir}/pgig-{arrayId}_<task>.out, {job.LogDir}/pgig-plots-{plotsId}.out");
        Console.WriteLine($"progress: squeue -j {arrayId},{plotsId}; {Shell.Join(["pgig", "status", .. job.PgigOptions()])}");
        Console.WriteLine($"a task that failed or was cancelled: once the others have ended, the same command with --tasks <i> resubmits it (and a Plots job)");
        return 0;
    }

    static string Sbatch(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env)
    {
        var psi = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true };
        foreach (var a in args.Prepend("--parsable")) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run sbatch ({e.Message}): run pgig slurm where Slurm's commands are installed (a login node), or add --dry-run to see the commands", e);
        }
        using (p)
        {
            string output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"sbatch failed (exit {p.ExitCode}); its message is above. The command: {Shell.Join(["sbatch", .. args])}");
            // --parsable prints "<job id>" or "<job id>;<cluster>"
            string id = output.Split('\n').Last().Split(';')[0].Trim();
            if (id.Length == 0 || !id.All(char.IsAsciiDigit)) throw new InvalidOperationException($"sbatch printed '{output}', not a job id");
            return id;
        }
    }
}

/// <summary>The two sbatch command lines of a run, built from the options (no Slurm needed: the tests check them).</summary>
public sealed class SlurmJob
{
    public required PipelineConfig Config { get; init; }
    public required int Workers { get; init; }
    public string? Tasks { get; init; }
    public int? MaxParallel { get; init; }
    public string? Partition { get; init; }
    public string? Time { get; init; }
    public int? CpusPerTask { get; init; }
    public string? Mem { get; init; }
    public int Gpus { get; init; }
    public string? Account { get; init; }
    public required string LogDir { get; init; }
    public IReadOnlyList<string> SbatchArgs { get; init; } = [];
    public int? ValSize { get; init; }
    public string? Methods { get; init; }
    /// <summary>The pgig command line the jobs run (PGIG in the script).</summary>
    public required string Pgig { get; init; }
    public required string WorkingDirectory { get; init; }

    public string CacheDir => Path.GetFullPath(Config.CacheDir, WorkingDirectory);
    public string ArraySpec => (Tasks ?? $"0-{Workers - 1}") + (MaxParallel is { } k ? $"%{k}" : "");

    public void Validate()
    {
        if (Workers < 1) throw new ArgumentException($"--workers {Workers}: at least 1");
        if (MaxParallel is < 1) throw new ArgumentException($"--max-parallel {MaxParallel}: at least 1");
        if (CpusPerTask is < 1) throw new ArgumentException($"--cpus-per-task {CpusPerTask}: at least 1");
        if (Gpus < 0) throw new ArgumentException($"--gpus {Gpus}: 0 or more");
        if (Gpus > 0 && Config.Device == "cpu")
            throw new ArgumentException($"--gpus {Gpus}, but {Config.SourceFile} says device: cpu; set device: cuda (or auto) to use them");
        if (Gpus == 0 && Config.Device == "cuda")
            throw new ArgumentException($"{Config.SourceFile} says device: cuda, but Slurm gives a job no GPU unless asked: add --gpus 1");
        if (Tasks is not null) TaskIndices(Tasks, Workers);
        if (Pgig.Contains(','))
            throw new ArgumentException($"the pgig command '{Pgig}' contains a comma, which sbatch --export cannot pass; set PGIG to a path without one");
        if (Time is { Length: 0 } || Partition is { Length: 0 } || Mem is { Length: 0 } || Account is { Length: 0 })
            throw new ArgumentException("--time, --partition, --mem and --account need a value");
    }

    /// <summary>The indices of a --tasks list such as "1,4-5", each checked to be a worker index.</summary>
    public static IReadOnlyList<int> TaskIndices(string spec, int workers)
    {
        var result = new List<int>();
        foreach (var part in spec.Split(','))
        {
            var ends = part.Split('-');
            if (ends.Length > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                throw new ArgumentException($"--tasks {spec}: '{part}' is not a task index or a range such as 4-5");
            int from = int.Parse(ends[0], CultureInfo.InvariantCulture), to = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            if (to < from) throw new ArgumentException($"--tasks {spec}: the range {part} is empty");
            if (to >= workers) throw new ArgumentException($"--tasks {spec}: task {to} does not exist; with --workers {workers} the tasks are 0…{workers - 1}");
            result.AddRange(Enumerable.Range(from, to - from + 1));
        }
        return result;
    }

    /// <summary>The pgig options of both jobs: absolute paths, so that logs and `pgig status` name the same directories.</summary>
    public IReadOnlyList<string> PgigOptions()
    {
        var o = new List<string> { "--config", Path.GetFullPath(Config.SourceFile, WorkingDirectory), "--cache-dir", CacheDir,
            "--results-dir", Path.GetFullPath(Config.ResultsDir, WorkingDirectory) };
        if (ValSize is { } v) o.AddRange(["--val-size", v.ToString(CultureInfo.InvariantCulture)]);
        if (Methods is not null) o.AddRange(["--methods", Methods]);
        return o;
    }

    IEnumerable<string> Common(string jobName, string output)
    {
        yield return $"--job-name={jobName}";
        yield return $"--output={output}";
        yield return $"--chdir={WorkingDirectory}"; // relative paths in the config mean what they mean here
        if (Partition is not null) yield return $"--partition={Partition}";
        if (Time is not null) yield return $"--time={Time}";
        if (Mem is not null) yield return $"--mem={Mem}";
        if (Account is not null) yield return $"--account={Account}";
        foreach (var a in SbatchArgs) yield return a;
        yield return $"--export=ALL,PGIG={Pgig}";
    }

    string JobName => "pgig-" + new string(Config.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());

    /// <summary>sbatch arguments of the array job: task i computes worker i of <see cref="Workers"/>.</summary>
    public IReadOnlyList<string> ArrayArgs(string script)
    {
        var a = new List<string> { $"--array={ArraySpec}" };
        a.AddRange(Common(JobName, Path.Combine(LogDir, "pgig-%A_%a.out")));
        if (CpusPerTask is { } c) a.Add($"--cpus-per-task={c}");
        if (Gpus > 0) a.Add($"--gres=gpu:{Gpus}");
        a.Add(script);
        a.AddRange(["--workers", Workers.ToString(CultureInfo.InvariantCulture)]); // explicit: a resubmitted task's array is smaller
        a.AddRange(PgigOptions());
        return a;
    }

    /// <summary>sbatch arguments of the Plots job, which waits for every task of <paramref name="arrayJobId"/> to succeed
    /// and is removed if one fails (then resubmit that task with --tasks).</summary>
    public IReadOnlyList<string> PlotsArgs(string script, string arrayJobId)
    {
        var a = new List<string> { $"--dependency=afterok:{arrayJobId}", "--kill-on-invalid-dep=yes" };
        a.AddRange(Common(JobName + "-plots", Path.Combine(LogDir, "pgig-plots-%j.out")));
        a.Add(script);
        a.AddRange(PgigOptions());
        return a;
    }

    /// <summary>The pgig arguments pgig.sbatch runs for array task <paramref name="task"/> (as the script builds them).</summary>
    public IReadOnlyList<string> WorkerCommand(int task) => ["run", "Plots", "--worker", $"{task}/{Workers}", .. PgigOptions()];
}

/// <summary>Quoting for printed command lines that a POSIX shell reads back unchanged.</summary>
public static class Shell
{
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,%@+".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";

    public static string Join(IEnumerable<string> words) => string.Join(" ", words.Select(Quote));
}

/// <summary>Which file system a path is on, from /proc/self/mountinfo (Linux): flock works across nodes only on some.</summary>
public static class FileSystems
{
    static readonly HashSet<string> Local = ["ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs", "f2fs", "vfat", "ramfs"];

    /// <summary>The type of the mount holding <paramref name="path"/> (or its nearest existing parent); null where unknown.</summary>
    public static string? TypeOf(string path)
    {
        const string mountinfo = "/proc/self/mountinfo";
        if (!File.Exists(mountinfo)) return null;
        var full = Path.GetFullPath(path);
        string? best = null; int bestLength = -1;
        foreach (var line in File.ReadLines(mountinfo))
        {
            // "id parent major:minor root mountpoint options [optional...] - fstype source superoptions"
            var fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || dash < 0 || dash + 1 >= fields.Length) continue;
            var mount = fields[4].Replace("\\040", " ");
            bool under = full == mount || full.StartsWith(mount.TrimEnd('/') + "/", StringComparison.Ordinal);
            if (under && mount.Length >= bestLength) { best = fields[dash + 1]; bestLength = mount.Length; }
        }
        return best;
    }

    /// <summary>A note when several workers would share a cache on a node-local file system.</summary>
    public static string? LocalNote(string cacheDir, int workers) =>
        workers > 1 && TypeOf(cacheDir) is { } t && Local.Contains(t)
            ? $"the cache is on a node-local file system ({t}): tasks on other nodes would not see each other's units; put it on a shared file system (NFSv4, Lustre, BeeGFS, GPFS) unless every task runs on this node"
            : null;
}
