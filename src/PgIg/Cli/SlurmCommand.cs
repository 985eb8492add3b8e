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
        using var reader = new StreamReader(s);
        return reader.ReadToEnd();
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
        var sharedFirst = new Option<bool>("--shared-first") { Description = "compute the shared units (data, model, patterns) in a job of their own before the array, so that no two tasks ever need the same unit: for file systems whose flock is per node (README)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the sbatch commands instead of writing the script and submitting" };
        var cmd = new Command("slurm", "submit the run to Slurm: an array job of N workers, then a Plots job after them (README, \"Running on a cluster\")")
            { workers, tasks, maxParallel, partition, time, cpus, mem, gpus, account, logDir, extra, sharedFirst, dryRun };
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
                WorkingDirectory = Environment.CurrentDirectory, SharedFirst = r.GetValue(sharedFirst),
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
        var mount = FileSystems.MountOf(job.CacheDir);
        Console.WriteLine($"cache {job.CacheDir} ({mount?.Type ?? "unknown file system"}); {job.Workers} workers");
        if (job.Workers > 1 && FileSystems.LocalNote(mount) is { } local) Console.WriteLine($"note: {local}");
        if (job.Workers > 1 && !job.SharedFirst)
        {
            if (FileSystems.LockNote(mount) is { } locks) Console.WriteLine($"warning: {locks}. With --shared-first the tasks need no lock in common.");
            else if (!dryRun && !FileSystems.FlockExcludes(job.CacheDir))
                Console.WriteLine("warning: flock does not exclude on this file system (a second lock on one file was granted), so tasks could compute a shared unit at once. With --shared-first the tasks need no lock in common.");
        }
        if (dryRun)
        {
            // the dependencies name shell variables, so the lines can be pasted as they are
            Console.WriteLine($"dry run: would write {script} (build/slurm/pgig.sbatch) and run");
            string? shared = job.SharedFirst ? "$shared" : null;
            if (shared is not null) Console.WriteLine("  shared=$(" + Shell.Join(["sbatch", "--parsable", .. job.SharedArgs(script)]) + ")");
            Console.WriteLine("  array=$(" + Shell.Join(["sbatch", "--parsable", .. job.ArrayArgs(script, shared)]) + ")");
            Console.WriteLine("  " + Shell.Join(["sbatch", .. job.PlotsArgs(script, "$array")]));
            return 0;
        }
        Directory.CreateDirectory(job.LogDir);
        File.WriteAllText(script, Script());
        // the key reaches the jobs through the environment (sbatch exports it), never on a command line squeue shows
        var env = imagenetKey is null ? null : new Dictionary<string, string> { ["PGIG_IMAGENET_KEY"] = imagenetKey };
        string? sharedId = null;
        if (job.SharedFirst)
        {
            sharedId = Sbatch(job.SharedArgs(script), env);
            Console.WriteLine($"submitted shared-units job {sharedId}: `pgig run Patterns` (data, model, patterns) before the array");
        }
        string arrayId = Sbatch(job.ArrayArgs(script, sharedId), env);
        Console.WriteLine($"submitted array job {arrayId}: tasks {job.ArraySpec}, each `pgig run Plots --worker i/{job.Workers}`");
        string plotsId;
        try { plotsId = Sbatch(job.PlotsArgs(script, arrayId), env); }
        catch (InvalidOperationException e)
        {
            // the workers are queued and will run: say how to add the figures rather than leave them orphaned
            throw new InvalidOperationException($"{e.Message}. The array job {arrayId} is submitted; once it has succeeded, make the figures with: " +
                Shell.Join(["sbatch", .. job.PlotsArgs(script, arrayId).Skip(2)]), e);
        }
        Console.WriteLine($"submitted Plots job {plotsId}: starts once every task of {arrayId} has succeeded (and is cancelled if one fails)");
        Console.WriteLine($"logs: {job.LogDir}/pgig-{arrayId}_<task>.out, {job.LogDir}/pgig-plots-{plotsId}.out");
        Console.WriteLine($"progress: squeue -j {(sharedId is null ? "" : sharedId + ",")}{arrayId},{plotsId}; {Shell.Join(["pgig", "status", .. job.PgigOptions()])}");
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
    /// <summary>Compute the units every task needs (data, model, patterns) in one job before the array.</summary>
    public bool SharedFirst { get; init; }

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

    /// <summary>The stage whose units (and what they need) every worker shares: computed first with --shared-first.</summary>
    public const string SharedStage = "Patterns";

    /// <summary>sbatch arguments of the --shared-first job: the shared units, with a task's resources (training wants them).</summary>
    public IReadOnlyList<string> SharedArgs(string script)
    {
        var a = new List<string>(Common(JobName + "-shared", Path.Combine(LogDir, "pgig-shared-%j.out")));
        a.AddRange(TaskResources());
        a.AddRange([script, "--stage", SharedStage, .. PgigOptions()]);
        return a;
    }

    IEnumerable<string> TaskResources()
    {
        if (CpusPerTask is { } c) yield return $"--cpus-per-task={c}";
        if (Gpus > 0) yield return $"--gres=gpu:{Gpus}";
    }

    /// <summary>sbatch arguments of the array job: task i computes worker i of <see cref="Workers"/>; after the
    /// --shared-first job <paramref name="afterJobId"/> when there is one.</summary>
    public IReadOnlyList<string> ArrayArgs(string script, string? afterJobId = null)
    {
        var a = new List<string> { $"--array={ArraySpec}" };
        if (afterJobId is not null) a.AddRange([$"--dependency=afterok:{afterJobId}", "--kill-on-invalid-dep=yes"]);
        a.AddRange(Common(JobName, Path.Combine(LogDir, "pgig-%A_%a.out")));
        a.AddRange(TaskResources());
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
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,%@+".Contains(c)) ? word
        // a job-id variable in a printed dependency stays expandable
        : word.StartsWith("--dependency=", StringComparison.Ordinal) && word.Count(c => c == '$') == 1 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_=:$".Contains(c)) ? word
        : "'" + word.Replace("'", "'\\''") + "'";

    public static string Join(IEnumerable<string> words) => string.Join(" ", words.Select(Quote));
}

/// <summary>The mount a path is on, from /proc/self/mountinfo (Linux), and what that means for pgig's flock-based
/// locks across nodes (README, "Shared file systems").</summary>
public static class FileSystems
{
    public sealed record Mount(string Point, string Type, string Options);

    static readonly HashSet<string> Local = ["ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs", "f2fs", "vfat", "ramfs"];

    /// <summary>The mount holding <paramref name="path"/>; null where unknown (not Linux).</summary>
    public static Mount? MountOf(string path)
    {
        const string mountinfo = "/proc/self/mountinfo";
        return File.Exists(mountinfo) ? MountOf(path, File.ReadLines(mountinfo)) : null;
    }

    public static Mount? MountOf(string path, IEnumerable<string> mountinfo)
    {
        var full = Path.GetFullPath(path);
        Mount? best = null;
        foreach (var line in mountinfo)
        {
            // "id parent major:minor root mountpoint mount-options [optional...] - fstype source super-options"
            var fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            if (fields.Length < 6 || dash < 0 || dash + 1 >= fields.Length) continue;
            var point = fields[4].Replace("\\040", " ");
            bool under = full == point || full.StartsWith(point.TrimEnd('/') + "/", StringComparison.Ordinal);
            // the longest mount point wins; of equal ones the later (a mount stacked on another)
            if (under && point.Length >= (best?.Point.Length ?? -1))
                best = new Mount(point, fields[dash + 1], fields[5] + (dash + 3 < fields.Length ? "," + fields[dash + 3] : ""));
        }
        return best;
    }

    /// <summary>A note when several workers would share a cache on a node-local file system.</summary>
    public static string? LocalNote(Mount? m) => m is not null && Local.Contains(m.Type)
        ? $"the cache is on a node-local file system ({m.Type}): tasks on other nodes would not see each other's units; put it on a shared file system (NFSv4, Lustre, BeeGFS, GPFS) unless every task runs on this node"
        : null;

    /// <summary>Why flock would lock per node only on this mount, from its type and options; null when nothing says so.</summary>
    public static string? LockNote(Mount? m)
    {
        if (m is null) return null;
        var o = m.Options.Split(',').ToHashSet(StringComparer.Ordinal);
        return m.Type switch
        {
            "lustre" when o.Contains("localflock") => "Lustre mounted with localflock: flock locks per node only (-o flock locks across nodes)",
            "lustre" when o.Contains("noflock") => "Lustre mounted with noflock: flock is not supported (-o flock locks across nodes)",
            "nfs" or "nfs4" when o.Contains("nolock") => "NFS mounted with nolock: locks are per node only",
            "nfs" or "nfs4" when o.Contains("local_lock=flock") || o.Contains("local_lock=all") => "NFS mounted with local_lock=flock/all: flock locks per node only",
            "fuse.beegfs" or "beegfs" => "BeeGFS locks per node unless beegfs-client.conf sets tuneUseGlobalFileLocks = true",
            _ => null,
        };
    }

    /// <summary>Whether a second flock on one file is refused here, as pgig's per-key locks need (it is not where the
    /// file system ignores flock). Across nodes only the mount options tell (<see cref="LockNote"/>).</summary>
    public static bool FlockExcludes(string dir)
    {
        Directory.CreateDirectory(dir);
        string probe = Path.Combine(dir, $".flock-probe-{Guid.NewGuid():N}");
        try
        {
            using var first = Pipeline.FileLock.Acquire(probe, TimeSpan.Zero);
            using var second = Pipeline.FileLock.TryAcquire(probe);
            return second is null;
        }
        finally { File.Delete(probe); }
    }
}
