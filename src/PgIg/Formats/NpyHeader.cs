using System.Globalization;
using System.Text;

namespace PgIg.Formats;

/// <summary>The metadata of one .npy array: numpy descr (e.g. "&lt;f4"), shape and storage order.</summary>
public sealed record NpyHeader(string Dtype, long[] Shape, bool FortranOrder)
{
    /// <summary>The dtypes this reader understands; all little-endian (or byte-sized).</summary>
    public static IReadOnlyList<string> SupportedDtypes { get; } = ["<f4", "<f8", "<i4", "<i8", "|u1"];

    public long ElementCount => CountElements(Shape);

    public int ItemSize => ItemSizeOf(Dtype);

    public long DataBytes => checked(ElementCount * ItemSize);

    /// <summary>Python tuple notation, as numpy prints shapes: "()", "(5,)", "(2, 3)".</summary>
    public static string FormatShape(IReadOnlyList<long> shape) => shape.Count switch
    {
        0 => "()",
        1 => string.Create(CultureInfo.InvariantCulture, $"({shape[0]},)"),
        _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
    };

    internal static long CountElements(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape {FormatShape(shape)}");
            n = checked(n * d);
        }
        return n;
    }

    internal static int ItemSizeOf(string dtype) => dtype switch
    {
        "<f4" or "<i4" => 4,
        "<f8" or "<i8" => 8,
        "|u1" => 1,
        _ when IsText(dtype) => (dtype[1] == 'U' ? 4 : 1) * int.Parse(dtype.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException($"unsupported dtype '{dtype}'"),
    };

    /// <summary>Fixed-width text: numpy's unicode (&lt;U<i>n</i>, UTF-32) or bytes (|S<i>n</i>), what np.save writes for an array of str.</summary>
    public static bool IsText(string dtype) =>
        dtype.Length > 2 && (dtype.StartsWith("<U", StringComparison.Ordinal) || dtype.StartsWith("|S", StringComparison.Ordinal))
        && dtype.AsSpan(2).IndexOfAnyExceptInRange('0', '9') < 0 && dtype.Length < 12;

    /// <summary>Parses the Python dict literal that follows the .npy preamble.</summary>
    internal static NpyHeader Parse(string text, string nameForErrors)
    {
        object? parsed;
        try
        {
            var parser = new PyLiteralParser(text);
            parsed = parser.ParseValue();
            parser.ExpectEnd();
        }
        catch (FormatException e)
        {
            throw NpyReader.Fail($"{nameForErrors}: cannot parse .npy header {Quote(text)}: {e.Message}", truncated: false);
        }
        if (parsed is not Dictionary<string, object?> dict)
            throw NpyReader.Fail($"{nameForErrors}: .npy header is not a dict: {Quote(text)}", truncated: false);
        string[] expected = ["descr", "fortran_order", "shape"];
        if (dict.Count != 3 || !expected.All(dict.ContainsKey))
            throw NpyReader.Fail(
                $"{nameForErrors}: .npy header must have exactly the keys descr, fortran_order, shape; found {string.Join(", ", dict.Keys.Order(StringComparer.Ordinal))}",
                truncated: false);

        if (dict["descr"] is not string descr)
            throw NpyReader.Fail(
                $"{nameForErrors}: structured dtype {Quote(text)} is not supported (need a plain numeric array, one of {string.Join(", ", SupportedDtypes)})",
                truncated: false);
        if (descr.StartsWith('>'))
            throw NpyReader.Fail(
                $"{nameForErrors}: big-endian dtype '{descr}' is not supported; re-save the array little-endian (e.g. arr.astype('<{descr[1..]}'))",
                truncated: false);
        if (descr == "|O")
            throw NpyReader.Fail($"{nameForErrors}: an object array (pickled Python objects), which PgIg does not unpickle; save text as np.array(names, dtype=str)", truncated: false);
        if (!SupportedDtypes.Contains(descr) && !IsText(descr))
            throw NpyReader.Fail(
                $"{nameForErrors}: unsupported dtype '{descr}' (supported: {string.Join(", ", SupportedDtypes)}, and text <U…, |S…)", truncated: false);

        if (dict["fortran_order"] is not bool fortran)
            throw NpyReader.Fail($"{nameForErrors}: fortran_order is not True/False in {Quote(text)}", truncated: false);
        if (dict["shape"] is not PyTuple tuple || tuple.Items.Any(i => i is not long l || l < 0))
            throw NpyReader.Fail($"{nameForErrors}: shape is not a tuple of non-negative ints in {Quote(text)}", truncated: false);

        long[] shape = tuple.Items.Select(i => (long)i!).ToArray();
        try
        {
            _ = CountElements(shape);
        }
        catch (OverflowException)
        {
            throw NpyReader.Fail($"{nameForErrors}: shape {FormatShape(shape)} is too large", truncated: false);
        }
        return new NpyHeader(descr, shape, fortran);
    }

    static string Quote(string s) => "\"" + s.Trim() + "\"";

    sealed record PyTuple(List<object?> Items);

    /// <summary>Just enough of Python's literal syntax for numpy headers (str, int, bool, None, tuple, list, dict),
    /// including Python 2's "3L" long suffix found in old files.</summary>
    sealed class PyLiteralParser(string text)
    {
        int _pos;

        public void ExpectEnd()
        {
            SkipWhitespace();
            if (_pos != text.Length) throw Error("unexpected trailing text");
        }

        public object? ParseValue()
        {
            SkipWhitespace();
            if (_pos >= text.Length) throw Error("unexpected end");
            char c = text[_pos];
            switch (c)
            {
                case '{':
                    return ParseDict();
                case '(':
                    return new PyTuple(ParseSequence('(', ')'));
                case '[':
                    return ParseSequence('[', ']');
                case '\'' or '"':
                    return ParseString();
            }
            if (c == '-' || char.IsAsciiDigit(c)) return ParseInt();
            if (char.IsAsciiLetter(c))
            {
                int start = _pos;
                while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
                return text[start.._pos] switch
                {
                    "True" => true,
                    "False" => false,
                    "None" => null,
                    var word => throw Error($"unexpected name '{word}'"),
                };
            }
            throw Error($"unexpected character '{c}'");
        }

        Dictionary<string, object?> ParseDict()
        {
            _pos++; // '{'
            var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (true)
            {
                SkipWhitespace();
                if (Peek() == '}') { _pos++; return dict; }
                if (ParseValue() is not string key) throw Error("dict key is not a string");
                SkipWhitespace();
                if (Peek() != ':') throw Error("expected ':'");
                _pos++;
                dict[key] = ParseValue();
                SkipWhitespace();
                if (Peek() == ',') { _pos++; continue; }
                if (Peek() == '}') { _pos++; return dict; }
                throw Error("expected ',' or '}'");
            }
        }

        List<object?> ParseSequence(char open, char close)
        {
            _pos++; // open
            var items = new List<object?>();
            bool trailingComma = false;
            while (true)
            {
                SkipWhitespace();
                if (Peek() == close) { _pos++; break; }
                items.Add(ParseValue());
                trailingComma = false;
                SkipWhitespace();
                if (Peek() == ',') { _pos++; trailingComma = true; continue; }
                if (Peek() == close) { _pos++; break; }
                throw Error($"expected ',' or '{close}'");
            }
            // In Python "(5)" is just 5, not a tuple; numpy always writes "(5,)".
            if (open == '(' && items.Count == 1 && !trailingComma) throw Error("'(n)' is not a tuple; expected '(n,)'");
            return items;
        }

        string ParseString()
        {
            char quote = text[_pos++];
            var sb = new StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length) _pos++;
                sb.Append(text[_pos++]);
            }
            if (_pos >= text.Length) throw Error("unterminated string");
            _pos++;
            return sb.ToString();
        }

        long ParseInt()
        {
            int start = _pos;
            if (text[_pos] == '-') _pos++;
            while (_pos < text.Length && char.IsAsciiDigit(text[_pos])) _pos++;
            if (!long.TryParse(text.AsSpan(start, _pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                throw Error($"bad integer '{text[start.._pos]}'");
            if (_pos < text.Length && text[_pos] is 'L' or 'l') _pos++;
            return value;
        }

        char Peek() => _pos < text.Length ? text[_pos] : '\0';

        void SkipWhitespace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        FormatException Error(string what) => new($"{what} at position {_pos}");
    }
}
