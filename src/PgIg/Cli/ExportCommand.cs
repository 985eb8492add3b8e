using System.CommandLine;
using System.CommandLine.Parsing;

namespace PgIg.Cli;

/// <summary>`pgig export`: NumPy files and results.csv from the cache (see <see cref="ResultsExporter"/>).</summary>
public static class ExportCommand
{
    public static Command Create(CommonOptions common)
    {
        var outOpt = new Option<string?>("--out") { Description = "output directory, replaced as a whole (default: <results_dir>/export)" };
        var noMaps = new Option<bool>("--no-maps") { Description = "skip <method>_attributions.npy (N×3×225×225 float32 each: 6 GB per method at 10000 images)" };
        var compute = new Option<bool>("--compute") { Description = "compute missing Attribute/Degrade units first instead of failing" };
        var cmd = new Command("export", "write attribution maps, curves, <method>_degradation.npy and results.csv as NumPy files") { outOpt, noMaps, compute };
        common.AddTo(cmd);
        cmd.SetAction((r, ct) => PgIgCli.Guard(async () =>
        {
            var (plan, _) = PgIgCli.Open(common.Load(r));
            if (r.GetValue(compute))
            {
                if (plan.Images is null)
                {
                    await plan.RunAsync("Data");
                    (plan, _) = PgIgCli.Open(plan.Config);
                }
                foreach (var m in plan.Config.Methods) await plan.RunAsync($"Degrade:{m.Name}");
                Pipeline.ProgressSinks.Finish();
            }
            string outDir = r.GetValue(outOpt) ?? Path.Combine(plan.Config.ResultsDir, "export");
            var files = await ResultsExporter.ExportAsync(plan, outDir, !r.GetValue(noMaps), Console.WriteLine, RunFirst(r, outOpt, noMaps, compute));
            Console.WriteLine($"exported {files.Count} files to {Path.GetDirectoryName(files[0])}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>`pgig run Plots` with the options the user gave export, minus export's own.</summary>
    static string RunFirst(ParseResult r, params Option[] exportOnly)
    {
        var words = new List<string> { "pgig", "run", "Plots" };
        var skip = exportOnly.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
        bool skipValue = false;
        foreach (var token in r.Tokens.Skip(1)) // the first token is the command itself
        {
            if (skipValue && token.Type == TokenType.Argument) { skipValue = false; continue; }
            skipValue = false;
            if (token.Type == TokenType.Option && skip.Contains(token.Value)) { skipValue = true; continue; }
            words.Add(token.Value.Contains(' ') ? $"\"{token.Value}\"" : token.Value);
        }
        return string.Join(" ", words);
    }
}
