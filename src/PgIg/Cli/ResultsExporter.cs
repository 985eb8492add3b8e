using System.Globalization;
using System.Text;
using System.Text.Json;
using PgIg.Formats;
using PgIg.Pipeline;
using PgIg.Stages;

namespace PgIg.Cli;

/// <summary>
/// `pgig export`: the cached results of one config as NumPy files in the original's shapes, for analysis in
/// Python: maps B×C×H×W, per-image curves, the mean curve <c>&lt;method&gt;_degradation.npy</c> and results.csv.
/// Rows follow the evaluation list (the selection order of the config's images).
/// </summary>
public static class ResultsExporter
{
    public const string MarkerFile = "export.json";

    /// <summary>Units the export reads that are not cached yet (Attribute and Degrade of every method).</summary>
    public static IReadOnlyList<StageKey> Missing(PipelinePlan plan) =>
        plan.Config.Methods.SelectMany(m => plan.Get($"Attribute:{m.Name}").Units.Concat(plan.Get($"Degrade:{m.Name}").Units))
            .Concat(plan.Config.Degrade.Orders.Contains("random") ? plan.Get(DegradeStage.RandomOrderStage).Units : [])
            .Select(u => u.Key).Where(k => plan.Cache.Check(k, verifyContent: false).Status != CacheStatus.Fresh).ToList();

    /// <summary>
    /// Writes everything into a temporary sibling of <paramref name="outDir"/> and swaps it in at the end, so a failed
    /// export leaves no partial directory. An existing <paramref name="outDir"/> is replaced only if an earlier export
    /// wrote it (or it is empty).
    /// </summary>
    /// <param name="runFirst">The command that computes what is missing, with the user's own options (for the error).</param>
    public static async Task<IReadOnlyList<string>> ExportAsync(PipelinePlan plan, string outDir, bool includeMaps, Action<string> log, string? runFirst = null)
    {
        var c = plan.Config;
        runFirst ??= $"pgig run Plots --config {c.SourceFile}";
        if (plan.Images is null) throw new InvalidOperationException($"the evaluation set is not known yet: run `{runFirst}` first, or pass --compute");
        var missing = Missing(plan);
        if (missing.Count > 0)
            throw new InvalidOperationException($"{missing.Count} unit(s) are not computed yet, e.g. {missing[0].Slot}; run `{runFirst}` first, or pass --compute");

        string target = Path.GetFullPath(outDir);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !File.Exists(Path.Combine(target, MarkerFile)))
            throw new InvalidOperationException($"--out {target} exists and was not written by pgig export; choose another --out or empty it");
        string parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, $".{Path.GetFileName(target)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        try
        {
            await WriteAllAsync(plan, tmp, includeMaps, log);
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(tmp, target);
        }
        catch
        {
            try { Directory.Delete(tmp, recursive: true); } catch (IOException) { }
            throw;
        }
        return Directory.GetFiles(target).Order(StringComparer.Ordinal).ToList();
    }

    static async Task WriteAllAsync(PipelinePlan plan, string dir, bool includeMaps, Action<string> log)
    {
        var c = plan.Config;
        var images = plan.Images!;
        var ids = images.Select(v => v.Id).ToArray();
        int n = ids.Length, np = c.Degrade.NPatches;
        WriteInt64(Path.Combine(dir, "image_ids.npy"), ids);
        WriteInt64(Path.Combine(dir, "labels.npy"), images.Select(v => (long)v.Label).ToArray());
        // file names too: maps computed elsewhere can name their images either way ({name, maps, ids})
        var catalog = plan.Track.Catalog(plan.Stage<DataStage>().Directory);
        using (var fs = File.Create(Path.Combine(dir, "image_files.npy"))) NpyWriter.Write(fs, ids.Select(id => catalog[id]).ToArray());
        // estimated patterns in the original's npz layout, for use elsewhere
        if (plan.PatternsKey is { } patterns && File.Exists(Path.Combine(plan.Cache.DirectoryOf(patterns), "patterns.npz")))
            File.Copy(Path.Combine(plan.Cache.DirectoryOf(patterns), "patterns.npz"), Path.Combine(dir, "patterns.npz"));

        long[]? targets = null;
        string? targetsFrom = null;
        var meanCurves = new Dictionary<string, float[]>();
        foreach (var m in c.Methods)
        {
            var attributeUnits = plan.Get($"Attribute:{m.Name}").Units;
            var mapShape = MapShape(plan.Cache.ReadManifest(attributeUnits[0].Key));
            long perImage = mapShape.Aggregate(1L, (a, b) => a * b);
            var methodTargets = new long[n];
            FileStream? maps = includeMaps ? File.Create(Path.Combine(dir, $"{m.Name}_attributions.npy")) : null;
            try
            {
                maps?.Write(NpyWriter.BuildHeader("<f4", false, [n, .. mapShape]));
                int at = 0;
                for (int s = 0; s < attributeUnits.Count; s++)
                {
                    var rows = await ParquetFiles.ReadAsync<MapRow>(Path.Combine(plan.Cache.DirectoryOf(attributeUnits[s].Key), "maps.parquet"));
                    foreach (var r in rows)
                    {
                        if (at >= n || r.ImageId != ids[at])
                            throw new InvalidDataException($"{attributeUnits[s].Key.Slot}: maps are not in the evaluation order (image {r.ImageId} at position {at}); rerun the stage");
                        if (r.Map.Length != perImage * 4)
                            throw new InvalidDataException($"{attributeUnits[s].Key.Slot}: map of image {r.ImageId} has {r.Map.Length / 4} values, expected {perImage}");
                        maps?.Write(r.Map); // already little-endian float32, the .npy payload
                        methodTargets[at++] = r.TargetClass;
                    }
                }
                if (at != n) throw new InvalidDataException($"Attribute:{m.Name} holds {at} maps for {n} images; rerun it");
            }
            finally { maps?.Dispose(); }
            // every method explains the class predicted on the clean image; they must agree
            if (targets is null) { targets = methodTargets; targetsFrom = m.Name; }
            else if (!targets.SequenceEqual(methodTargets))
                throw new InvalidDataException($"methods {targetsFrom} and {m.Name} explain different target classes for the same images; their caches come from different models, rerun Attribute");

            foreach (var order in c.Degrade.Orders)
            {
                var curves = new float[(long)n * np];
                var index = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
                var seen = new bool[n];
                // the curves of the first listed replacement (mean unless degrade.replacement starts with road)
                foreach (var u in plan.Get(order == "random" ? DegradeStage.RandomOrderStage : $"Degrade:{m.Name}").Units
                    .Where(u => DegradeStage.ReplacementOf(u.Key) == c.Degrade.Replacements[0]))
                    foreach (var r in (await ParquetFiles.ReadAsync<CurveRow>(Path.Combine(plan.Cache.DirectoryOf(u.Key), "curves.parquet"))).Where(r => r.Order == order))
                    {
                        if (!index.TryGetValue(r.ImageId, out int i) || r.Curve.Length != np)
                            throw new InvalidDataException($"{u.Key.Slot}: unexpected curve for image {r.ImageId} ({r.Curve.Length} points); rerun the stage");
                        r.Curve.CopyTo(curves, (long)i * np);
                        seen[i] = true;
                    }
                if (seen.Contains(false)) throw new InvalidDataException($"Degrade:{m.Name} has no {order} curve for image {ids[Array.IndexOf(seen, false)]}; rerun it");
                string suffix = order == "morf" ? "" : "_" + order;
                WriteFloat32(Path.Combine(dir, $"{m.Name}_curves{suffix}.npy"), curves, [n, np]);
                var mean = new float[np];
                for (int p = 0; p < np; p++)
                {
                    double sum = 0;
                    for (int i = 0; i < n; i++) sum += curves[(long)i * np + p];
                    mean[p] = (float)(sum / n);
                }
                WriteFloat32(Path.Combine(dir, $"{m.Name}_degradation{suffix}.npy"), mean, [np]);
                if (order == c.Degrade.Orders[0]) meanCurves[m.Name] = mean;
            }
            log($"  {m.Name}: {(includeMaps ? "maps, " : "")}curves");
        }
        WriteInt64(Path.Combine(dir, "targets.npy"), targets!);
        await File.WriteAllTextAsync(Path.Combine(dir, "results.csv"), ResultsCsv(meanCurves, np));
        await File.WriteAllTextAsync(Path.Combine(dir, MarkerFile), JsonSerializer.Serialize(new
        {
            config = c.SourceFile, name = c.Name, track = PgIg.Config.PipelineConfig.TrackName(c.Track), images = n, n_patches = np,
            orders = c.Degrade.Orders, methods = c.Methods.Select(m => m.Name).ToArray(), maps = includeMaps, written_utc = DateTime.UtcNow,
        }, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// The original's gen_csv after load_results: columns sorted by file name "&lt;method&gt;_degradation.npy" (so
    /// smooth_grad2 precedes smooth_grad), values as Python prints np.float32. Unlike load_results it does not
    /// truncate to 100 points.
    /// </summary>
    public static string ResultsCsv(IReadOnlyDictionary<string, float[]> curves, int nPatches)
    {
        var names = curves.Keys.OrderBy(k => k + "_degradation.npy", StringComparer.Ordinal).ToList();
        var sb = new StringBuilder("patches");
        foreach (var m in names) sb.Append(',').Append(m);
        sb.Append('\n');
        for (int i = 0; i < nPatches; i++)
        {
            sb.Append(i.ToString(CultureInfo.InvariantCulture));
            foreach (var m in names) sb.Append(',').Append(PyFloat32Str(curves[m][i]));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// str(np.float32(v)) of NumPy ≥ 1.14: shortest round-trip digits, positional for 1e-4 ≤ |v| &lt; 1e16 (at least one
    /// decimal, "1.0"), otherwise scientific with a two-digit exponent ("1e-05", "1.5e-07").
    /// </summary>
    public static string PyFloat32Str(float v)
    {
        if (float.IsNaN(v)) return "nan";
        if (float.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        if (v == 0) return float.IsNegative(v) ? "-0.0" : "0.0";
        bool negative = v < 0;
        string s = Math.Abs(v).ToString("R", CultureInfo.InvariantCulture); // shortest round-trip digits, as NumPy's dragon4
        int exp = 0;
        int e = s.IndexOfAny(['E', 'e']);
        if (e >= 0) { exp = int.Parse(s[(e + 1)..], CultureInfo.InvariantCulture); s = s[..e]; }
        int dot = s.IndexOf('.');
        string intPart = dot < 0 ? s : s[..dot], frac = dot < 0 ? "" : s[(dot + 1)..];
        string digits = (intPart + frac).TrimStart('0');
        int lead = (intPart + frac).Length - digits.Length;          // zeros dropped in front
        int pointPos = intPart.Length + exp - lead;                   // decimal point position relative to digits
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int sciExp = pointPos - 1;
        double abs = Math.Abs((double)v);
        string body;
        if (abs >= 1e-4 && abs < 1e16)
        {
            if (pointPos <= 0) body = "0." + new string('0', -pointPos) + digits;
            else if (pointPos >= digits.Length) body = digits + new string('0', pointPos - digits.Length) + ".0";
            else body = digits[..pointPos] + "." + digits[pointPos..];
        }
        else
        {
            string mant = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            body = mant + "e" + (sciExp < 0 ? "-" : "+") + Math.Abs(sciExp).ToString("00", CultureInfo.InvariantCulture);
        }
        return negative ? "-" + body : body;
    }

    static long[] MapShape(Manifest m)
    {
        if (!m.Metrics.TryGetValue("map_shape", out var node) || node is not System.Text.Json.Nodes.JsonArray a)
            throw new InvalidDataException($"{m.Slot}: manifest has no map_shape; rerun the stage");
        return a.Select(x => x!.GetValue<long>()).ToArray();
    }

    static void WriteInt64(string path, long[] data)
    {
        using var fs = File.Create(path);
        NpyWriter.Write(fs, data, [data.Length]);
    }

    static void WriteFloat32(string path, float[] data, long[] shape)
    {
        using var fs = File.Create(path);
        NpyWriter.Write(fs, data, shape);
    }
}
