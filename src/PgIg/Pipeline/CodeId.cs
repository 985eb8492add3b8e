namespace PgIg.Pipeline;

/// <summary>
/// The code part of a stage key: the hand-written <see cref="Version"/> (bumped when a change must recompute) and the
/// <see cref="Fingerprint"/> of what the code computes (<see cref="Fingerprints"/>), so a change in numbers moves the key
/// even when nobody bumped the version. A unit whose code computes no numbers says so with <see cref="NoNumbers"/>.
/// </summary>
public sealed record CodeId(string Version, string Fingerprint)
{
    /// <summary>For code that only moves data it does not compute (copies, downloads): the version alone identifies it.</summary>
    public static CodeId NoNumbers(string version) => new(version, "none");
}
