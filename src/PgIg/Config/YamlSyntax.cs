using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PgIg.Config;

/// <summary>
/// Loads a config's YAML text into its root mapping. Every syntax error becomes a <see cref="ConfigException"/>
/// that names file:line:column and what is wrong: YamlDotNet's own messages are kept where they are clear,
/// unclosed or mismatched brackets are diagnosed here (its parser reports them late, or as a bare
/// InvalidOperationException without a position).
/// </summary>
public static class YamlSyntax
{
    public static YamlMappingNode LoadRoot(string yaml, string file)
    {
        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(yaml));
        try { stream.Load(new Parser(scanner)); }
        catch (Exception e) when (e is YamlException or InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            // a bracket problem explains most parser failures better than the place where the parser gave up
            if (FlowProblem(yaml) is { } p) throw Error(file, p.Line, p.Column, p.Message);
            if (e is YamlException y && y.Start.Line > 0) throw Error(file, y.Start.Line, y.Start.Column, Explain(y));
            var at = scanner.CurrentPosition;
            throw Error(file, Math.Max(1, at.Line), Math.Max(1, at.Column), $"the YAML parser stopped here ({e.Message}); check the brackets, quotes and indentation around it");
        }
        if (stream.Documents.Count == 0)
            throw new ConfigException($"{file}: the file is empty; a config is a YAML mapping (key: value lines), see pipeline.yaml");
        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode.Start;
            throw Error(file, second.Line, second.Column, "a second YAML document starts here (after '---'); a config is one document: remove the '---' line or move the rest to its own file");
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            var n = stream.Documents[0].RootNode;
            throw Error(file, n.Start.Line, n.Start.Column, $"the config must be a YAML mapping (key: value lines), but the file holds a {(n is YamlSequenceNode ? "list" : "single value")}");
        }
        return root;
    }

    static ConfigException Error(string file, long line, long column, string message) =>
        new($"{file}:{line}:{column}: invalid YAML: {message}");

    static string Explain(YamlException e)
    {
        string m = e.InnerException?.Message ?? e.Message;
        if (m.StartsWith("Duplicate key ", StringComparison.Ordinal))
            return $"field '{m["Duplicate key ".Length..]}' appears twice in the same mapping; keep one";
        if (m.StartsWith("The anchor '", StringComparison.Ordinal) && m.Split('\'') is [_, var anchor, ..])
            return $"the alias '*{anchor}' refers to no anchor '&{anchor}' defined before it";
        // YamlDotNet's wording names the parser state; say what the user wrote wrong and the fix
        if (m.Contains("found invalid mapping", StringComparison.Ordinal))
            return "unexpected ': ' here: quote a value that contains ': ', or align this key with the fields above it";
        if (m.Contains("quoted scalar", StringComparison.Ordinal))
            return "the quoted string that starts here is not closed: add the closing quote";
        if (m.Contains("did not find expected key", StringComparison.Ordinal))
            return "this is not a 'key: value' entry of the mapping it belongs to: check the indentation, and for text after a closing bracket or quote";
        if (m.Contains("did not find expected '-' indicator", StringComparison.Ordinal))
            return "a list item ('- ...') was expected here: a list and 'key: value' lines cannot share one indentation level";
        if (m.Contains("cannot start any token", StringComparison.Ordinal))
            return "this character cannot start a value ('@' and '`' are reserved, tabs cannot indent): quote the value or use spaces";
        if (m.Contains("incompatible YAML document", StringComparison.Ordinal))
            return "unsupported %YAML version directive: remove that line";
        return m.TrimEnd('.') + ": check the indentation, brackets and quotes here";
    }

    /// <summary>The first unclosed, mismatched or stray flow bracket ([ ] { }), if any.</summary>
    public static (int Line, int Column, string Message)? FlowProblem(string yaml)
    {
        var open = new Stack<(char Ch, int Line, int Column, int Indent)>();
        var lines = yaml.Replace("\r\n", "\n").Split('\n');
        bool inSingle = false, inDouble = false;
        int lastContent = 0; // last line with content inside the open collection
        for (int li = 0; li < lines.Length; li++)
        {
            string line = lines[li];
            int lineNo = li + 1;
            int indent = line.Length - line.TrimStart(' ').Length;
            string trimmed = line.Trim();
            if (open.Count > 0 && !inSingle && !inDouble && trimmed.Length > 0 && !trimmed.StartsWith('#') && indent <= open.Last().Indent)
                return Unclosed(open.Peek(), lastContent, $"line {lineNo} already starts the next entry");
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (inDouble)
                {
                    if (c == '\\') i++;
                    else if (c == '"') inDouble = false;
                    continue;
                }
                if (inSingle)
                {
                    if (c == '\'' && i + 1 < line.Length && line[i + 1] == '\'') i++;
                    else if (c == '\'') inSingle = false;
                    continue;
                }
                if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) break;
                bool nodeStart = AtNodeStart(line, i);
                switch (c)
                {
                    case '"' when nodeStart: inDouble = true; break;
                    case '\'' when nodeStart: inSingle = true; break;
                    case '[' or '{' when open.Count > 0 || nodeStart:
                        open.Push((c, lineNo, i + 1, open.Count > 0 ? open.Last().Indent : indent));
                        break;
                    case ']' or '}' when open.Count > 0:
                        var o = open.Pop();
                        char want = Closer(o.Ch);
                        if (c != want)
                            return (lineNo, i + 1, $"'{c}' does not close the {Kind(o.Ch)} opened with '{o.Ch}' at line {o.Line}, column {o.Column}; close that with '{want}' first");
                        break;
                    case ']' or '}' when nodeStart:
                        return (lineNo, i + 1, $"'{c}' closes nothing: there is no '{Opener(c)}' before it");
                }
            }
            if (open.Count > 0 && trimmed.Length > 0) lastContent = lineNo;
        }
        return open.Count > 0 ? Unclosed(open.Peek(), lastContent, "the file ends first") : null;
    }

    static (int, int, string) Unclosed((char Ch, int Line, int Column, int Indent) o, int lastContent, string why) =>
        (o.Line, o.Column, $"the {Kind(o.Ch)} opened with '{o.Ch}' here is not closed ({why}); add '{Closer(o.Ch)}' at the end of line {Math.Max(o.Line, lastContent)}");

    static string Kind(char open) => open == '[' ? "list" : "mapping";

    static char Closer(char open) => open == '[' ? ']' : '}';

    static char Opener(char close) => close == ']' ? '[' : '{';

    /// <summary>Whether position <paramref name="i"/> starts a node: only spaces since the line start or an indicator (: - ? , [ {).</summary>
    static bool AtNodeStart(string line, int i)
    {
        if (i > 0 && !char.IsWhiteSpace(line[i - 1]) && line[i - 1] is not ('[' or '{' or ',')) return false;
        for (int j = i - 1; j >= 0; j--)
            if (!char.IsWhiteSpace(line[j])) return line[j] is ':' or '-' or '?' or ',' or '[' or '{';
        return true;
    }
}
