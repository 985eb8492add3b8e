using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

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
        string eta = rate > 0 && !finished ? $" ETA {Hms(TimeSpan.FromSeconds((total - done) / rate))}" : "";
        log($"  {task}: {100 * done / Math.Max(total, 1e-9):0}% ({done:0.#}/{total:0.#}) elapsed {Hms(elapsed)}{eta}{(detail is null ? "" : ", " + detail)}");
    }

    /// <summary>hh:mm:ss with hours past 24 (TimeSpan's "hh" drops whole days), capped at 99:59:59.</summary>
    public static string Hms(TimeSpan t)
    {
        if (!(t.TotalSeconds < 359_999)) return "99:59:59";
        return $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}";
    }
}

/// <summary>
/// Live Spectre.Console progress bars with ETA on a terminal. The display runs on a thread of its own from
/// the first report until every task is done (or <see cref="Finish"/>); while it runs, log lines meant for
/// the same terminal go through it, so that they print above the bars instead of tearing them.
/// </summary>
public sealed class LiveProgress : IProgressSink
{
    readonly IAnsiConsole _console;
    readonly Action<string>? _plainLog;
    readonly object _gate = new();
    readonly Dictionary<string, TaskState> _tasks = new(StringComparer.Ordinal);
    Thread? _display;
    bool _stop;

    sealed class TaskState
    {
        public required double Start;
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        public double Done, Total;
        public string? Detail;
        public ProgressTask? Bar;
        public bool Finished => Done >= Total;

        public string Eta() => EtaText(Start, Done, Total, Clock.Elapsed);
    }

    /// <summary>As <see cref="LineProgress"/>: from this process's rate since its first report, so cached work does not skew it.</summary>
    public static string EtaText(double start, double done, double total, TimeSpan elapsed)
    {
        if (done >= total) return "done";
        double rate = (done - start) / Math.Max(elapsed.TotalSeconds, 1e-9);
        return rate > 0 ? $"ETA {LineProgress.Hms(TimeSpan.FromSeconds(Math.Min((total - done) / rate, 359_999)))}" : "ETA --:--:--";
    }

    /// <summary>The ETA of <see cref="EtaText"/> (Spectre's own estimate would count cached work as speed).</summary>
    /// <remarks>Reads a snapshot the display loop writes, so Spectre's render thread never waits for our lock.</remarks>
    sealed class EtaColumn(System.Collections.Concurrent.ConcurrentDictionary<int, string> etas) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(etas.TryGetValue(task.Id, out var eta) ? eta : "", new Style(Color.Blue));
    }

    readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> _etas = new();

    /// <param name="console">Where the bars go (stderr).</param>
    /// <param name="plainLog">Where log lines go when stdout is not the bars' terminal; null: through the bars' console.</param>
    public LiveProgress(IAnsiConsole console, Action<string>? plainLog = null)
    {
        _console = console;
        _plainLog = plainLog;
    }

    public void Report(string task, double done, double total, string? detail = null)
    {
        lock (_gate)
        {
            // the first report fixes the baseline of the ETA: the rate is this process's, whatever earlier runs cached
            if (!_tasks.TryGetValue(task, out var t) || t.Finished && done < t.Done) _tasks[task] = t = new TaskState { Start = done };
            t.Done = done; t.Total = total; t.Detail = detail;
            if (_display is null && !t.Finished)
            {
                _stop = false;
                StartDisplay();
            }
        }
    }

    public void Log(string line)
    {
        if (_plainLog is not null) { _plainLog(line); return; }
        bool live;
        lock (_gate) live = _display is not null;
        // while bars are shown, writing through their console prints above them
        if (live) _console.WriteLine(line, Style.Plain); else Console.WriteLine(line);
    }

    /// <summary>Stops the display (finished or not) and waits until it has restored the terminal.</summary>
    public void Finish()
    {
        Thread? display;
        lock (_gate) { _stop = true; display = _display; }
        if (display is not null && display != Thread.CurrentThread) display.Join(TimeSpan.FromSeconds(5));
    }

    // a thread of its own rather than the pool: a busy pool (torch work, parallel tests) would stall the bars
    void StartDisplay()
    {
        _display = new Thread(RunDisplay) { IsBackground = true, Name = "pgig progress" };
        _display.Start();
    }

    void RunDisplay()
    {
        try
        {
            _console.Progress().AutoClear(false).HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                    new ElapsedTimeColumn(), new EtaColumn(_etas), new SpinnerColumn())
                .Start(ctx =>
                {
                    while (true)
                    {
                        bool done;
                        lock (_gate)
                        {
                            foreach (var (name, t) in _tasks)
                            {
                                t.Bar ??= ctx.AddTask(name, maxValue: Math.Max(t.Total, 1e-9));
                                t.Bar.MaxValue = Math.Max(t.Total, 1e-9);
                                t.Bar.Value = Math.Clamp(t.Done, 0, t.Bar.MaxValue);
                                t.Bar.Description = Markup.Escape($"{name} ({t.Done:0.#}/{t.Total:0.#}){(t.Detail is null ? "" : ", " + t.Detail)}");
                                _etas[t.Bar.Id] = t.Eta();
                                if (t.Finished) t.Bar.StopTask();
                            }
                            done = _stop || _tasks.Values.All(t => t.Finished);
                        }
                        ctx.Refresh();
                        if (done) break;
                        Thread.Sleep(100);
                    }
                });
        }
        finally
        {
            lock (_gate)
            {
                _display = null;
                // finished bars stay on screen; a later report of the same task starts a new bar
                foreach (var (name, t) in _tasks.ToList())
                    if (_stop || t.Finished) _tasks.Remove(name); else t.Bar = null;
                // a task that arrived while the display was closing
                if (!_stop && _tasks.Count > 0) StartDisplay();
            }
        }
    }
}

/// <summary>Chooses how a command shows progress: live bars when stderr is a terminal, plain throttled lines otherwise.</summary>
public static class ProgressSinks
{
    static readonly List<LiveProgress> Live = [];

    /// <summary>The progress sink and log for a command run from a console (pgig run, export).</summary>
    public static (IProgressSink Progress, Action<string> Log) ForConsole()
    {
        bool terminal = !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb"
                        && Environment.GetEnvironmentVariable("PGIG_PROGRESS") is not "plain";
        if (!terminal) return (new LineProgress(Console.WriteLine), Console.WriteLine);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Interactive = InteractionSupport.Yes,
            ColorSystem = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")) ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        // stdout redirected (a log file): log lines keep going there, plain; else they print above the bars
        var live = new LiveProgress(console, Console.IsOutputRedirected ? Console.WriteLine : null);
        lock (Live) Live.Add(live);
        return (live, live.Log);
    }

    /// <summary>Ends every live display, so that messages printed next (results, errors) and the terminal's cursor are intact.</summary>
    public static void Finish()
    {
        LiveProgress[] all;
        lock (Live) all = [.. Live];
        foreach (var l in all) l.Finish();
    }
}
