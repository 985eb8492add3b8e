using System.Diagnostics;

namespace PgIg.Pipeline;

/// <summary>Progress of a long stage: done/total units with an ETA.</summary>
public interface IProgressSink
{
    void Report(string task, double done, double total);
}

/// <summary>Throttled "task 40% (12/30) ETA 00:01:05" lines; works in CI logs and terminals alike.</summary>
public sealed class LineProgress(Action<string> log, TimeSpan? every = null) : IProgressSink
{
    readonly TimeSpan _every = every ?? TimeSpan.FromSeconds(5);
    readonly Dictionary<string, (Stopwatch Clock, TimeSpan LastPrint)> _tasks = new();

    public void Report(string task, double done, double total)
    {
        if (!_tasks.TryGetValue(task, out var t)) _tasks[task] = t = (Stopwatch.StartNew(), TimeSpan.Zero);
        var elapsed = t.Clock.Elapsed;
        bool finished = done >= total;
        if (!finished && elapsed - t.LastPrint < _every) return;
        _tasks[task] = (t.Clock, elapsed);
        string eta = done > 0 && !finished ? $" ETA {TimeSpan.FromSeconds(elapsed.TotalSeconds * (total - done) / done):hh\\:mm\\:ss}" : "";
        log($"  {task}: {100 * done / Math.Max(total, 1e-9):0}% ({done:0.#}/{total:0.#}) elapsed {elapsed:hh\\:mm\\:ss}{eta}");
    }
}
