using PgIg.Config;
using Xunit;
using Xunit.Abstractions;

namespace PgIg.Tests.Config;

public class YamlSyntaxErrorTests(ITestOutputHelper output)
{
    public static TheoryData<string> Broken => new()
    {
        "name: x\ntrack: fashion-mnist\nmethods: [vanilla_grad\nval_size: 20\n",
        "methods: [vanilla_grad\n",
        "methods: [vanilla_grad, \n  pattern_vanilla_grad\n",
        "plots: {title: x\nval_size: 3\n",
        "plots: {title: x\n",
        "name: \"unclosed\nval_size: 3\n",
        "name: 'unclosed\n",
        "val_size: 20\n  seed: 3\n",
        "val_size: 20\nseed: 3\nseed: 4\n",
        "name: a: b\n",
        "methods:\n- a\n b: c\n",
        "name: *anchor\n",
        "methods: ]\n",
        "name: x\n---\nname: y\n",
        "key: [a, b]]\n",
        "%YAML 9.9\n---\nname: x\n",
        "methods: [a, {b: c]\n",
        "- a\n- b\nval_size: 1\n",
        "name: @x\n",
        "? [a\n",
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Names_file_line_column_and_what_is_wrong(string yaml)
    {
        var e = Record.Exception(() => ConfigLoader.Parse(yaml, "bad.yaml"));
        output.WriteLine(yaml.Replace("\n", "⏎") + "  →  " + (e is null ? "(no error)" : $"{e.GetType().Name}: {e.Message}"));
        var c = Assert.IsType<ConfigException>(e);
        var m = System.Text.RegularExpressions.Regex.Match(c.Message, @"^bad\.yaml:(\d+):(\d+): invalid YAML: (.{15,})$");
        Assert.True(m.Success, c.Message);
        Assert.True(int.Parse(m.Groups[1].Value) >= 1 && int.Parse(m.Groups[2].Value) >= 1, c.Message);
        Assert.DoesNotContain("Operation is not valid", c.Message);
    }

    [Fact]
    public void An_unclosed_list_before_the_next_field_points_at_its_bracket()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("name: x\ntrack: fashion-mnist\nmethods: [vanilla_grad\nval_size: 20\n", "bad.yaml"));
        Assert.Equal("bad.yaml:3:10: invalid YAML: the list opened with '[' here is not closed (line 4 already starts the next entry); add ']' at the end of line 3", e.Message);
    }

    [Fact]
    public void Unclosed_mapping_mismatched_and_stray_brackets_are_named()
    {
        Assert.StartsWith("bad.yaml:1:8: invalid YAML: the mapping opened with '{' here is not closed (the file ends first); add '}' at the end of line 1",
            Assert.Throws<ConfigException>(() => ConfigLoader.Parse("plots: {title: x\n", "bad.yaml")).Message);
        Assert.Equal("bad.yaml:1:19: invalid YAML: ']' does not close the mapping opened with '{' at line 1, column 14; close that with '}' first",
            Assert.Throws<ConfigException>(() => ConfigLoader.Parse("methods: [a, {b: c]\n", "bad.yaml")).Message);
        Assert.Equal("bad.yaml:1:10: invalid YAML: ']' closes nothing: there is no '[' before it",
            Assert.Throws<ConfigException>(() => ConfigLoader.Parse("methods: ]\n", "bad.yaml")).Message);
        // multi-line lists, brackets inside quotes and plain scalars stay valid
        var ok = ConfigLoader.Parse("track: fashion-mnist\nname: it's [fine]\nplots: {title: \"a ] b\"}\nmethods: [vanilla_grad,\n  pattern_vanilla_grad]\n", "ok.yaml");
        Assert.Equal(2, ok.Methods.Count);
    }

    [Fact]
    public void A_key_that_is_a_list_is_a_located_error()
    {
        Assert.StartsWith("bad.yaml:2:10: a key of 'quirks' is a list",
            Assert.Throws<ConfigException>(() => ConfigLoader.Parse("track: fashion-mnist\nquirks: {[a]: true}\nmethods: [vanilla_grad]\n", "bad.yaml")).Message);
    }

    [Fact]
    public void A_second_document_and_duplicate_keys_are_errors()
    {
        Assert.StartsWith("bad.yaml:3:1: invalid YAML: a second YAML document starts here",
            Assert.Throws<ConfigException>(() => ConfigLoader.Parse("name: x\n---\nname: y\n", "bad.yaml")).Message);
        Assert.Equal("bad.yaml:3:1: invalid YAML: field 'seed' appears twice in the same mapping; keep one",
            Assert.Throws<ConfigException>(() => ConfigLoader.Parse("val_size: 20\nseed: 3\nseed: 4\n", "bad.yaml")).Message);
    }

    [Fact]
    public void Mutated_shipped_configs_fail_only_with_located_config_errors()
    {
        // seeded single-character damage (deletions, bracket/quote/indicator insertions) of the shipped configs
        string root = ConfigLoaderTests.RepoRoot();
        var files = Directory.GetFiles(Path.Combine(root, "config"), "*.yaml").Append(Path.Combine(root, "pipeline.yaml")).Order(StringComparer.Ordinal).ToList();
        var rng = new Random(11);
        const string Inserts = "[]{}:\"'-#&*!|>@,?%\t\n ";
        int syntax = 0;
        foreach (var f in files)
        {
            string text = File.ReadAllText(f);
            for (int k = 0; k < 150; k++)
            {
                int at = rng.Next(text.Length);
                string mutated = rng.Next(3) == 0 ? text.Remove(at, 1) : text.Insert(at, Inserts[rng.Next(Inserts.Length)].ToString());
                var e = Record.Exception(() => ConfigLoader.Parse(mutated, "bad.yaml"));
                if (e is null) continue;
                Assert.True(e is ConfigException, $"{e.GetType().Name}: {e.Message}\n--- mutated {Path.GetFileName(f)} at {at}:\n{mutated}");
                Assert.Matches(@"^bad\.yaml(:\d+:\d+)?: ", e.Message);
                if (e.Message.Contains("invalid YAML")) { syntax++; Assert.Matches(@"^bad\.yaml:[1-9]\d*:[1-9]\d*: invalid YAML: ", e.Message); }
            }
        }
        Assert.True(syntax > 50, $"only {syntax} mutations were syntax errors");
    }
}
