using System.Diagnostics;

namespace PgIg.Pipeline;

/// <summary>Progress of a long stage: done/total units with an ETA.</summary>
public interface IProgressSink
{
    /// <param name="detail">Changing extra text (a loss value); the task name must stay the same across reports.</param>
    void Report(string task, double done, double total, string? detail = null);
}

/// <summary>Throttled "task 40% (12/30) ETA 00:01:05" lines; works in CI logs and terminals alike.</summary>
public sealed class LineProgress(Action<string> log, TimeSpan? every = null) : IProgressSink
{
    readonly TimeSpan _every = every ?? TimeSpan.FromSeconds(5);
    readonly Dictionary<string, (Stopwatch Clock, TimeSpan LastPrint, double Start)> _tasks = new();

    public void Report(string task, double done, double total, string? detail = null)
    {
        // the first report fixes the baseline, so work done by earlier processes (cached shards) does not skew the rate
        if (!_tasks.TryGetValue(task, out var t)) _tasks[task] = t = (Stopwatch.StartNew(), TimeSpan.Zero, done);
        var elapsed = t.Clock.Elapsed;
        bool finished = done >= total;
        if (!finished && elapsed - t.LastPrint < _every) return;
        _tasks[task] = (t.Clock, elapsed, t.Start);
        double rate = (done - t.Start) / Math.Max(elapsed.TotalSeconds, 1e-9);
        string eta = rate > 0 && !finished ? $" ETA {TimeSpan.FromSeconds((total - done) / rate):hh\\:mm\\:ss}" : "";
        log($"  {task}: {100 * done / Math.Max(total, 1e-9):0}% ({done:0.#}/{total:0.#}) elapsed {elapsed:hh\\:mm\\:ss}{eta}{(detail is null ? "" : ", " + detail)}");
    }
}
