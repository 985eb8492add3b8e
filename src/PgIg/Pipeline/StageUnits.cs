namespace PgIg.Pipeline;

/// <summary>One unit of work: a stage, or one shard of a sharded stage. Its key says what it depends on, its
/// needs which units must exist before it runs, and Compute writes its artifact.</summary>
public sealed record StageUnit(StageKey Key, IReadOnlyList<StageKey> Needs, Func<ArtifactWriter, Task> Compute);

/// <summary>A Cake-level stage (Data, Train, Attribute:integrate_grad, ...) and its units.</summary>
/// <param name="Group">The stage kind it belongs to (Attribute for Attribute:integrate_grad).</param>
/// <param name="Known">False while its units cannot be listed yet (the evaluation set needs the Data stage).</param>
public sealed record PlannedStage(string Name, string Group, IReadOnlyList<StageUnit> Units, bool Known = true);

public enum Freshness { Fresh, Stale, Missing }

/// <summary>A run with --require-cached found something to compute.</summary>
public sealed class NotCachedException(string message) : Exception(message);

/// <param name="RunningUnits">Units not yet cached whose lock a pgig process holds: being computed now (by this
/// machine or, on a shared cache, by a cluster worker elsewhere).</param>
public sealed record StageStatus(string Stage, Freshness State, int FreshUnits, int TotalUnits, string? Reason, int RunningUnits = 0);
