namespace PgIg.Pipeline;

/// <summary>Marks a failure caused by a missing or unusable input (a file, a download, a dataset folder): the
/// runner goes on with the units that do not depend on it, so every such problem is reported at once.</summary>
public interface IInputProblem;

/// <summary>Several inputs are missing or unusable; the message lists each, one per line.</summary>
public sealed class InputProblemsException(IReadOnlyList<string> problems)
    : Exception($"{problems.Count} inputs are missing or unusable:\n" + string.Join("\n", problems.Select(p => "  - " + p))), IInputProblem
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
