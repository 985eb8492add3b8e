using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace PgIg.Cli;

/// <summary>Integer options that say "'abc' is not a whole number" instead of naming .NET types.</summary>
public static class WholeNumbers
{
    public static Option<int?> Optional(string name, string description)
    {
        var o = new Option<int?>(name) { Description = description };
        o.CustomParser = r => Parse(name, r);
        return o;
    }

    public static Option<int> WithDefault(string name, string description, int fallback)
    {
        var o = new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback };
        o.CustomParser = r => Parse(name, r) ?? fallback;
        return o;
    }

    static int? Parse(string name, ArgumentResult r)
    {
        string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : string.Join(" ", r.Tokens.Select(t => t.Value));
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)) return v;
        r.AddError(System.Numerics.BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? $"{name}: {text} is out of range (at most {int.MaxValue})"
            : $"{name}: '{text}' is not a whole number");
        return null;
    }
}
