using System.CommandLine;

namespace PgIg.Cli;

/// <summary>`pgig export`: NumPy files and results.csv from the cache (see <see cref="ResultsExporter"/>).</summary>
public static class ExportCommand
{
    public static Command Create(CommonOptions common)
    {
        var outOpt = new Option<string>("--out") { Description = "output directory (replaced as a whole)", DefaultValueFactory = _ => Path.Combine("results", "export") };
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
            }
            var files = await ResultsExporter.ExportAsync(plan, r.GetValue(outOpt)!, !r.GetValue(noMaps), Console.WriteLine);
            Console.WriteLine($"exported {files.Count} files to {Path.GetDirectoryName(files[0])}");
            return 0;
        }));
        return cmd;
    }
}
