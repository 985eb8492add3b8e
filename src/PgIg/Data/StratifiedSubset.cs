namespace PgIg.Data;

/// <summary>
/// Seeded, prefix-stable stratified selection of a validation subset (replaces the original's sklearn
/// StratifiedShuffleSplit(test_size=n, random_state=0), whose exact picks depend on NumPy's RNG).
/// </summary>
/// <remarks>
/// Each class's members are shuffled with their own SplitMix64 stream, the classes are put in a seeded
/// order, and the permutation takes one member per class per round in that order (classes that run out
/// drop out). Any prefix is therefore as balanced as possible (per-class counts differ by at most one,
/// except for classes that have no members left), 10000 of ImageNet's 50×1000 give exactly 10 per class,
/// and the first n of a larger selection are the selection for n. Only integer arithmetic: no dependence
/// on the .NET version.
/// </remarks>
public static class StratifiedSubset
{
    /// <summary>The first <paramref name="n"/> indices (into <paramref name="labels"/>) of <see cref="Permutation"/>.</summary>
    public static int[] Select(IReadOnlyList<int> labels, int n, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (n < 0 || n > labels.Count)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"the subset size must be between 0 and the {labels.Count} available images");
        return Permutation(labels, seed)[..n];
    }

    /// <summary>All indices in selection order.</summary>
    public static int[] Permutation(IReadOnlyList<int> labels, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var byClass = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < labels.Count; i++)
        {
            if (!byClass.TryGetValue(labels[i], out var members)) byClass[labels[i]] = members = [];
            members.Add(i);
        }

        var classes = byClass.Keys.ToArray();
        var members2 = new int[classes.Length][];
        for (int c = 0; c < classes.Length; c++)
        {
            var m = byClass[classes[c]].ToArray();
            // The stream depends only on (seed, label), so a class's order does not change with the others.
            var rng = new SplitMix64(SplitMix64.Mix(seed ^ SplitMix64.Mix(0x5EED_0000_0000_0001UL + (ulong)(uint)classes[c])));
            rng.Shuffle(m);
            members2[c] = m;
        }
        var order = Enumerable.Range(0, classes.Length).ToArray();
        new SplitMix64(SplitMix64.Mix(seed ^ 0xC1A5_5E50_4DE4_0000UL)).Shuffle(order);

        var result = new int[labels.Count];
        int k = 0;
        for (int round = 0; k < result.Length; round++)
            foreach (int c in order)
                if (round < members2[c].Length) result[k++] = members2[c][round];
        return result;
    }
}

/// <summary>SplitMix64 (Steele, Lea, Flood 2014): small, fast and fully specified, so selections are reproducible anywhere.</summary>
public struct SplitMix64(ulong seed)
{
    ulong _state = seed;

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>The SplitMix64 output function (a bijection on 64-bit values).</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>FNV-1a over UTF-8: a seed from a name that, unlike string.GetHashCode, is the same in every process.</summary>
    public static ulong SeedOf(string name)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(name)) { h ^= b; h *= 0x100000001B3UL; }
        return h;
    }

    /// <summary>Uniform in [0, bound) without modulo bias (Lemire's multiply-and-reject).</summary>
    public ulong NextBelow(ulong bound)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bound);
        ulong high = Math.BigMul(NextUInt64(), bound, out ulong low);
        if (low < bound)
        {
            ulong threshold = (0UL - bound) % bound;
            while (low < threshold) high = Math.BigMul(NextUInt64(), bound, out low);
        }
        return high;
    }

    /// <summary>Fisher–Yates, from the last element down.</summary>
    public void Shuffle<T>(T[] items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)NextBelow((ulong)i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
