using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace PgIg.Config;

/// <summary>
/// Reads one YAML mapping against a fixed set of keys. Every error names the file, line and column,
/// the dotted field path and the valid choices; unknown keys are errors, not silently ignored.
/// </summary>
public sealed class YamlNodeReader
{
    readonly string _file;
    readonly YamlMappingNode _node;
    readonly string _path;
    readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public YamlNodeReader(string file, YamlMappingNode node, string path)
    {
        _file = file; _node = node; _path = path;
    }

    public static ConfigException Error(string file, YamlNode? node, string message)
    {
        string where = node is null ? file : $"{file}:{node.Start.Line}:{node.Start.Column}";
        return new ConfigException($"{where}: {message}");
    }

    string Field(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

    YamlNode? Get(string key)
    {
        _known.Add(key);
        foreach (var (k, v) in _node.Children)
            if (k is YamlScalarNode s && s.Value == key) return IsNull(v) ? null : v;
        return null;
    }

    static bool IsNull(YamlNode n) => n is YamlScalarNode s && s.Style == YamlDotNet.Core.ScalarStyle.Plain && (s.Value is null or "" or "~" or "null");

    public bool Has(string key) => Get(key) is not null;

    /// <summary>The value node of <paramref name="key"/> (for errors that point at it), else the mapping itself.</summary>
    public YamlNode NodeOf(string key) => Get(key) ?? _node;

    string Scalar(string key, YamlNode node, string expected)
    {
        if (node is not YamlScalarNode s || s.Value is null)
            throw Error(_file, node, $"field '{Field(key)}' must be {expected}, got a {(node is YamlSequenceNode ? "list" : "mapping")}");
        return s.Value;
    }

    public string? String(string key, string? fallback = null)
    {
        var n = Get(key);
        return n is null ? fallback : Scalar(key, n, "a string");
    }

    public int Int(string key, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var n = Get(key);
        if (n is null) return fallback;
        var v = Scalar(key, n, "an integer");
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i))
            throw Error(_file, n, $"field '{Field(key)}' must be an integer, got '{v}'");
        if (i < min || i > max)
            throw Error(_file, n, $"field '{Field(key)}' must be between {min} and {(max == int.MaxValue ? "∞" : max)}, got {i}");
        return i;
    }

    public double Double(string key, double fallback, double min = double.MinValue)
    {
        var n = Get(key);
        if (n is null) return fallback;
        var v = Scalar(key, n, "a number");
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
            throw Error(_file, n, $"field '{Field(key)}' must be a number, got '{v}'");
        if (d < min) throw Error(_file, n, $"field '{Field(key)}' must be >= {min}, got {d}");
        return d;
    }

    public bool Bool(string key, bool fallback)
    {
        var n = Get(key);
        if (n is null) return fallback;
        return ParseBool(_file, n, Field(key), Scalar(key, n, "true or false"));
    }

    public static bool ParseBool(string file, YamlNode n, string field, string v) => v switch
    {
        "true" or "True" or "yes" => true,
        "false" or "False" or "no" => false,
        _ => throw Error(file, n, $"field '{field}' must be true or false, got '{v}'"),
    };

    public string Choice(string key, string fallback, params string[] choices)
    {
        var n = Get(key);
        if (n is null) return fallback;
        var v = Scalar(key, n, $"one of: {string.Join(", ", choices)}");
        if (!choices.Contains(v))
            throw Error(_file, n, $"field '{Field(key)}' is '{v}'{Suggest.DidYouMean(v, choices)}; valid choices: {string.Join(", ", choices)}");
        return v;
    }

    public YamlNodeReader? Map(string key)
    {
        var n = Get(key);
        if (n is null) return null;
        if (n is not YamlMappingNode m) throw Error(_file, n, $"field '{Field(key)}' must be a mapping (key: value lines)");
        return new YamlNodeReader(_file, m, Field(key));
    }

    public YamlSequenceNode? Seq(string key)
    {
        var n = Get(key);
        if (n is null) return null;
        if (n is not YamlSequenceNode s) throw Error(_file, n, $"field '{Field(key)}' must be a list");
        return s;
    }

    public IReadOnlyList<string>? StringList(string key)
    {
        var s = Seq(key);
        return s?.Children.Select(c => c is YamlScalarNode sc && sc.Value is not null ? sc.Value
            : throw Error(_file, c, $"field '{Field(key)}' must be a list of strings")).ToList();
    }

    /// <summary>Raw entries, for free-form maps such as method params and quirks.</summary>
    public IEnumerable<(string Key, YamlNode KeyNode, YamlNode Value)> Entries() =>
        _node.Children.Select(kv => (kv.Key is YamlScalarNode s ? s.Value ?? ""
            : throw Error(_file, kv.Key, $"a key of '{_path}' is a {(kv.Key is YamlSequenceNode ? "list" : "mapping")}; keys are plain names"), kv.Key, kv.Value));

    public string File => _file;
    public string Path => _path;
    public YamlMappingNode Node => _node;

    /// <summary>Fails on any key that no reader call asked for.</summary>
    public void RejectUnknown()
    {
        foreach (var (k, _) in _node.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            if (!_known.Contains(name))
                throw Error(_file, k, $"unknown field '{Field(name)}'{Suggest.DidYouMean(name, _known)}; valid fields{(_path.Length > 0 ? $" of '{_path}'" : "")}: {string.Join(", ", _known.Order(StringComparer.Ordinal))}");
        }
    }
}
