namespace PgIg.Config;

/// <summary>"did you mean ...?" for mistyped names in configs (edit distance, as shells and git do).</summary>
public static class Suggest
{
    /// <summary>" (did you mean 'x'?)" for the closest choice within a third of the word's length, else "".</summary>
    public static string DidYouMean(string typed, IEnumerable<string> choices)
    {
        var best = choices.Select(c => (Choice: c, Distance: Distance(typed, c)))
            .Where(x => x.Distance <= Math.Max(1, typed.Length / 3))
            .OrderBy(x => x.Distance).ThenBy(x => x.Choice, StringComparer.Ordinal).FirstOrDefault();
        return best.Choice is null ? "" : $" (did you mean '{best.Choice}'?)";
    }

    /// <summary>Levenshtein distance, with a swap of two neighbours counted as one edit.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
