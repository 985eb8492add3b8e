using static TorchSharp.torch;

namespace PgIg.Patterns;

/// <summary>
/// The patterns A_0, A_1, … handed to a backward rule one layer at a time, so a rule that only needs W ⊙ A builds it
/// layer by layer and never holds every A at once. Owned: each tensor enumerated belongs to the rule, which
/// disposes what it does not keep (a stream from the artifact); not owned: the tensors stay the caller's (a <see cref="PatternSet"/>).
/// </summary>
public sealed class PatternStream(Func<IEnumerable<Tensor>> layers, bool owned)
{
    public bool Owned { get; } = owned;

    /// <summary>A_i in layer order; enumerate it once per rule.</summary>
    public IEnumerable<Tensor> Layers() => layers();

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(set))]
    public static implicit operator PatternStream?(PatternSet? set) => set is null ? null : new(() => set.A, owned: false);
}
