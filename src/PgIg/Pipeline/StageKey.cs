namespace PgIg.Pipeline;

/// <summary>
/// The identity of one stage unit (a stage, or one shard of it). The hash covers the stage's config
/// slice, code (hand-written version and fingerprint of what it computes, <see cref="CodeId"/>), upstream keys and input file hashes; <see cref="Slot"/> is the stable name
/// of the unit (e.g. "attribute:integrate_grad/shard-0003") used to explain why a unit is stale.
/// </summary>
public sealed class StageKey
{
    public string Stage { get; }
    public string Slot { get; }
    public string Hash { get; }
    public SortedDictionary<string, object?> Inputs { get; }

    public StageKey(string stage, string slot, CodeId code, object? config,
        IEnumerable<(string Name, StageKey Key)>? upstream = null, IReadOnlyDictionary<string, string>? files = null)
    {
        Stage = stage; Slot = slot;
        Inputs = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["stage"] = stage,
            ["code_version"] = code.Version,
            ["fingerprint"] = code.Fingerprint,
            ["config"] = config,
            ["upstream"] = new SortedDictionary<string, string>((upstream ?? []).ToDictionary(u => u.Name, u => u.Key.Hash), StringComparer.Ordinal),
            ["files"] = new SortedDictionary<string, string>((files ?? new Dictionary<string, string>()).ToDictionary(), StringComparer.Ordinal),
        };
        Hash = Hashing.Sha256Hex(Hashing.CanonicalJson(Inputs));
    }

    public string ShortHash => Hash[..12];
    public override string ToString() => $"{Slot}@{ShortHash}";
}
