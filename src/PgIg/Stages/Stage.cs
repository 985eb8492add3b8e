using PgIg.Config;
using PgIg.Models;
using PgIg.Patterns;
using PgIg.Pipeline;
using PgIg.Tracks;

namespace PgIg.Stages;

/// <summary>
/// One stage of the pipeline, in one file: from the config, the track's sources and the keys of the stages
/// before it, it declares its units (each a key and a body). Stages are listed in <see cref="StageList"/>;
/// <see cref="PipelinePlan"/> wires them, <see cref="UnitRunner"/> runs units, <see cref="StatusReport"/> compares keys.
/// </summary>
public abstract class Stage
{
    /// <summary>The stage's name, which is also the group of its Cake targets (Attribute for Attribute:&lt;method&gt;).</summary>
    public abstract string Name { get; }

    /// <summary>Declares this stage's units. Stages plan in list order, so every upstream stage's keys are known here.</summary>
    public abstract IReadOnlyList<PlannedStage> Plan(PlanContext p);

    /// <summary>Lets go of what the stage keeps between its units (a method's rule): called when a run moves past it.</summary>
    public virtual void Release() { }

    protected PlannedStage Planned(IReadOnlyList<StageUnit> units, string? name = null) => new(name ?? Name, Name, units);

    /// <summary>A stage whose units depend on the evaluation set, planned before the Data stage has run.</summary>
    protected PlannedStage NotYetKnown(string? name = null) => new(name ?? Name, Name, [], Known: false);
}

/// <summary>
/// What stages see while planning and running: the config, the track's sources, the run's context, the stages
/// planned so far, and the model and patterns (loaded once, on first use by a stage body).
/// </summary>
public sealed class PlanContext(PipelineConfig config, ITrack track, StageContext run)
{
    readonly List<Stage> _stages = new();
    SequentialNet? _net;

    public PipelineConfig Config { get; } = config;
    public ITrack Track { get; } = track;
    public StageContext Run { get; } = run;
    public ArtifactCache Cache => Run.Cache;

    /// <summary>The unit whose artifact holds the model's weights (Train or Fetch), set by the stage that makes it.</summary>
    public StageKey? ModelKey { get; set; }

    internal void Add(Stage stage) => _stages.Add(stage);

    readonly List<PlannedStage> _planned = new();

    internal void Record(IEnumerable<PlannedStage> planned) => _planned.AddRange(planned);

    /// <summary>Every stage planned so far with its units; complete by the time any unit's body runs (the report lists them).</summary>
    public IReadOnlyList<PlannedStage> PlannedStages => _planned;

    /// <summary>An upstream stage, for its keys and its artifacts' readers.</summary>
    public T Get<T>() where T : Stage => _stages.OfType<T>().SingleOrDefault()
        ?? throw new InvalidOperationException($"{typeof(T).Name} is not planned before the stage that needs it; see StageList");

    public StageKey Model => ModelKey ?? throw new InvalidOperationException("no stage provides the model's weights");

    /// <summary>The network, on the run's device.</summary>
    public SequentialNet Net => _net ??= LoadModel().To(Run.Device);

    /// <summary>
    /// The patterns, checked against the network, on the run's device, read from their artifact layer by layer each
    /// time a rule enumerates them (the rule owns each tensor): none is kept here, so a pattern rule holds the model and
    /// W ⊙ A, not the patterns too.
    /// </summary>
    public PatternStream Patterns => new(() => Get<PatternsStage>().Stream(Net).Select(a => OnDevice(a)), owned: true);

    TorchSharp.torch.Tensor OnDevice(TorchSharp.torch.Tensor a)
    {
        if (a.device_type == Run.Device.type) return a;
        using (a) return a.to(Run.Device).DetachFromDisposeScope();
    }

    /// <summary>
    /// After a stage: every stage lets go of what it kept between units, and the freed memory goes back to the system,
    /// so one process running every stage peaks no higher than its largest stage. The network stays (the next stages need it).
    /// </summary>
    public void ReleaseStages()
    {
        foreach (var s in _stages) s.Release();
        StageMemory.Release();
    }

    /// <summary>A fresh CPU copy of the network from its artifact (the caller owns it).</summary>
    public SequentialNet LoadModel() => Track.Model.Build(TensorFiles.Read(Cache.DirectoryOf(Model), TensorFiles.ModelFile));
}
