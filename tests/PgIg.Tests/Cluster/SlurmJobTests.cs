using System.Diagnostics;
using PgIg.Cli;
using PgIg.Config;
using PgIg.Tests.Config;
using Xunit;

namespace PgIg.Tests.Cluster;

/// <summary>`pgig slurm`'s two sbatch command lines and build/slurm/pgig.sbatch, without a Slurm (.ci/slurm-test.sh runs a real one).</summary>
public sealed class SlurmJobTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-slurm-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    PipelineConfig Config(string device = "auto")
    {
        var path = Path.Combine(_dir, "run.yaml");
        File.WriteAllText(path, $"name: my run\ntrack: fashion-mnist\ndevice: {device}\nval_size: 20\nbatch_size: 10\ncache_dir: cache\nmethods: [vanilla_grad]\n");
        return ConfigLoader.Load(path);
    }

    SlurmJob Job(int workers = 3, int gpus = 0, string? tasks = null, string device = "auto") => new()
    {
        Config = Config(device), Workers = workers, Gpus = gpus, Tasks = tasks, Partition = "gpu", Time = "4:00:00", CpusPerTask = 4,
        LogDir = Path.Combine(_dir, "logs"), Pgig = "dotnet /opt/pgig/pgig.dll", WorkingDirectory = _dir, SbatchArgs = ["--qos=long"],
    };

    [Fact]
    public void The_array_job_runs_N_workers_and_the_plots_job_waits_for_all_of_them()
    {
        var job = Job(gpus: 1);
        var array = job.ArrayArgs("s.sbatch");
        Assert.Contains("--array=0-2", array);
        Assert.Contains("--gres=gpu:1", array);
        Assert.Contains("--cpus-per-task=4", array);
        Assert.Contains("--partition=gpu", array);
        Assert.Contains("--time=4:00:00", array);
        Assert.Contains("--qos=long", array);
        Assert.Contains("--export=ALL,PGIG=dotnet /opt/pgig/pgig.dll", array);
        // the script, then its own --workers, then pgig's options with absolute paths
        Assert.Equal(["s.sbatch", "--workers", "3", "--config", Path.Combine(_dir, "run.yaml"), "--cache-dir", Path.Combine(_dir, "cache"), "--results-dir", Path.Combine(_dir, "results")],
            array.SkipWhile(a => a != "s.sbatch"));

        var plots = job.PlotsArgs("s.sbatch", "123");
        Assert.Equal(["--dependency=afterok:123", "--kill-on-invalid-dep=yes"], plots.Take(2));
        Assert.DoesNotContain(plots, a => a.StartsWith("--array", StringComparison.Ordinal) || a.StartsWith("--gres", StringComparison.Ordinal) || a == "--workers");
        Assert.Contains("--job-name=pgig-my_run-plots", plots);
    }

    [Fact]
    public void Shared_first_computes_the_shared_units_in_a_job_the_array_waits_for()
    {
        var job = Job(gpus: 1);
        var shared = job.SharedArgs("s.sbatch");
        Assert.Equal(["s.sbatch", "--stage", "Patterns"], shared.SkipWhile(a => a != "s.sbatch").Take(3));
        Assert.Contains("--gres=gpu:1", shared); // training wants the task's resources
        Assert.DoesNotContain(shared, a => a.StartsWith("--array", StringComparison.Ordinal));
        var array = job.ArrayArgs("s.sbatch", "41");
        Assert.Contains("--dependency=afterok:41", array);
        Assert.Contains("--kill-on-invalid-dep=yes", array);
        Assert.DoesNotContain(job.ArrayArgs("s.sbatch"), a => a.StartsWith("--dependency", StringComparison.Ordinal));
        // printed for pasting: the job-id variable stays expandable, the rest is quoted where needed
        Assert.Equal("sbatch --dependency=afterok:$array 'my run'", Shell.Join(["sbatch", "--dependency=afterok:$array", "my run"]));
        Assert.Equal("'$HOME'", Shell.Quote("$HOME"));
    }

    [Theory]
    [InlineData("36 25 0:32 / /scratch rw,relatime shared:1 - lustre 10.0.0.1@o2ib:/fs rw,localflock", "/scratch/me/cache", "localflock")]
    [InlineData("36 25 0:32 / /scratch rw,relatime shared:1 - lustre 10.0.0.1@o2ib:/fs rw,flock", "/scratch/me/cache", null)]
    [InlineData("40 25 0:40 / /home rw,relatime - nfs4 srv:/home rw,vers=4.2,local_lock=none", "/home/me/cache", null)]
    [InlineData("40 25 0:40 / /home rw,relatime - nfs srv:/home rw,vers=3,nolock,local_lock=all", "/home/me/cache", "nolock")]
    [InlineData("41 25 0:41 / /mnt/beegfs rw,relatime - beegfs beegfs_nodev rw,cfgFile=/etc/beegfs/beegfs-client.conf", "/mnt/beegfs/c", "tuneUseGlobalFileLocks")]
    public void Mount_options_that_make_flock_per_node_are_named(string mountLine, string cache, string? expected)
    {
        var lines = new[] { "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw", mountLine };
        var m = FileSystems.MountOf(cache, lines);
        Assert.NotNull(m);
        Assert.NotEqual("ext4", m.Type); // the longest mount point, not /
        var note = FileSystems.LockNote(m);
        if (expected is null) Assert.Null(note); else Assert.Contains(expected, note);
        Assert.Contains("node-local", FileSystems.LocalNote(FileSystems.MountOf("/data/cache", lines)));
    }

    [Fact]
    public void Flock_excludes_here_and_the_probe_leaves_nothing_behind()
    {
        Assert.True(FileSystems.FlockExcludes(Path.Combine(_dir, "cache")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_dir, "cache")));
    }

    [Fact]
    public void Resubmitted_tasks_keep_the_worker_count()
    {
        var array = Job(workers: 8, tasks: "1,4-5").ArrayArgs("s.sbatch");
        Assert.Contains("--array=1,4-5", array);
        Assert.Equal("8", array[array.ToList().IndexOf("--workers") + 1]);
        Assert.Equal([1, 4, 5], SlurmJob.TaskIndices("1,4-5", 8));
    }

    [Theory]
    [InlineData(3, 0, "3", "auto", "task 3 does not exist; with --workers 3 the tasks are 0…2")]
    [InlineData(3, 0, "a", "auto", "'a' is not a task index")]
    [InlineData(3, 0, "2-1", "auto", "is empty")]
    [InlineData(3, 1, null, "cpu", "says device: cpu")]
    [InlineData(3, 0, null, "cuda", "add --gpus 1")]
    [InlineData(0, 0, null, "auto", "--workers 0: at least 1")]
    public void Bad_options_are_refused_before_anything_is_submitted(int workers, int gpus, string? tasks, string device, string expected) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => Job(workers, gpus, tasks, device).Validate()).Message);

    [Fact]
    public void The_embedded_script_is_build_slurm_pgig_sbatch() =>
        Assert.Equal(File.ReadAllText(Path.Combine(ConfigLoaderTests.RepoRoot(), "build", "slurm", "pgig.sbatch")), SlurmCommand.Script());

    [Theory]
    [InlineData("1", "3")]  // an array task: worker i of the explicit --workers
    [InlineData("2", null)] // no --workers: the array's task count
    [InlineData(null, "3")] // outside an array: the Plots job
    [InlineData(null, "shared")] // the --shared-first job
    public void The_script_runs_a_command_the_pgig_cli_accepts(string? task, string? workers)
    {
        var job = Job();
        var env = new Dictionary<string, string?> { ["PGIG"] = "echo", ["SLURM_ARRAY_TASK_ID"] = task, ["SLURM_ARRAY_TASK_COUNT"] = task is null ? null : "3", ["SLURM_JOB_ID"] = "7" };
        if (workers == "shared")
        {
            var shared = job.SharedArgs("s.sbatch");
            var sharedRun = Bash(Script, shared.SkipWhile(a => a != "s.sbatch").Skip(1), env).Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Split(' ');
            Assert.Equal(["run", SlurmJob.SharedStage, .. job.PgigOptions()], sharedRun);
            Assert.Empty(PgIgCli.CreateRoot().Parse(sharedRun).Errors);
            return;
        }
        var args = workers is null ? job.PgigOptions() : ["--workers", workers, .. job.PgigOptions()];
        var output = Bash(Script, args, env).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // the script announces the command, then execs it (here: echo prints the words it was given)
        var words = output[^1].Split(' ');
        IReadOnlyList<string> expected = task is null ? ["run", "Plots", .. job.PgigOptions()] : job.WorkerCommand(int.Parse(task));
        Assert.Equal(expected, words);
        var parsed = PgIgCli.CreateRoot().Parse(words);
        Assert.Empty(parsed.Errors);
        Assert.Equal("run", parsed.CommandResult.Command.Name);
        if (task is not null) Assert.Equal((int.Parse(task), 3), PgIgCli.ParseWorker(words[3]));
    }

    static string Script => Path.Combine(ConfigLoaderTests.RepoRoot(), "build", "slurm", "pgig.sbatch");

    static string Bash(string script, IEnumerable<string> args, IReadOnlyDictionary<string, string?> env)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("SLURM_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(k);
        foreach (var (k, v) in env) if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"pgig.sbatch exited {p.ExitCode}: {stderr}");
        return stdout;
    }
}
