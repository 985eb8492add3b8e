using PgIg.Config;
using PgIg.Degradation;
using PgIg.Plotting;
using PgIg.Tracks;
using TorchSharp;
using PgIg.Pipeline;
using PgIg.Stages;

namespace PgIg.Reporting;

/// <summary>Renders the Plots stage's figures: degradation curves, AUC/AOPC summary, saliency grid.</summary>
public static class Figures
{
    /// <summary>The degradation and summary figures of one replacement (mean: the original's names; road: suffixed <c>_road</c>, titled ROAD).</summary>
    public static void Write(ArtifactWriter w, PipelineConfig c, ITrack track, IReadOnlyList<CurveSummary> summaries, string replacement = DegradeConfig.Mean)
    {
        int n = summaries.FirstOrDefault()?.Images ?? 0;
        string subtitle = Subtitle(c, track, n, replacement);
        string family = DegradeConfig.Suffix(replacement), road = RoadTitle(replacement);
        var pairs = PatternPairs(c);

        foreach (var order in c.Degrade.Orders)
        {
            var curves = summaries.Where(s => s.Order == order).Select(s => new CurveSeries(s.Method, s.MeanCurve)).ToList();
            // MoRF is judged against random removal: its curve is the reference line (black, the baseline style)
            var randomCurve = summaries.FirstOrDefault(s => s.Order == "random");
            if (order == "morf" && randomCurve is not null) curves.Add(new CurveSeries(MethodStyles.RandomOrder, randomCurve.MeanCurve));
            string suffix = (order == "morf" ? "" : "_" + order) + family;
            string orderText = order switch
            {
                "morf" => "MoRF, most relevant first", "lerf" => "LeRF, least relevant first",
                "insertion" => "insertion, most relevant restored first", _ => "random order",
            };
            DegradationPlot.Save(curves, new DegradationPlotOptions
            {
                Title = c.Plots.Title is { } t ? t + (road.Length > 0 ? $" ({RoadName})" : "") : $"Degradation ({orderText}{road}): mean p(predicted class)",
                Subtitle = subtitle, PatternPairs = pairs, YFromZero = c.Plots.YFromZero,
                XLabel = order == "insertion" ? "# patches restored (from the fully degraded image)" : "# patches degraded",
            }, w.PathOf($"degradation{suffix}.png"), w.PathOf($"degradation{suffix}.svg"));
            w.RegisterFile($"degradation{suffix}.png");
            w.RegisterFile($"degradation{suffix}.svg");
        }

        // one summary figure per ranked order (the random order has a single, method-independent series, quoted
        // in each subtitle as the reference); the first ranked order's is summary.png
        var ranked = c.Degrade.Orders.Where(o => o != "random").ToList();
        var random = summaries.FirstOrDefault(s => s.Order == "random");
        string reference = random is null ? "" : $"; random order: AUC {random.Auc.Value:0.000}, AOPC {random.Aopc.Value:0.000}";
        foreach (var order in ranked)
        {
            string suffix = (order == ranked[0] ? "" : "_" + order) + family;
            var rows = summaries.Where(s => s.Order == order)
                .Select(s => new SummaryRow(s.Method, s.Auc.Value, s.Auc.Low, s.Auc.High, s.Aopc.Value, s.Aopc.Low, s.Aopc.High)).ToList();
            SummaryPlot.Save(rows, $"Area under the degradation curve ({OrderLabel(order)}{road}) and AOPC, 95% bootstrap CI",
                subtitle + reference, pairs, w.PathOf($"summary{suffix}.png"), w.PathOf($"summary{suffix}.svg"),
                higherAucIsBetter: PairedStatistics.HigherIsBetter(order));
            w.RegisterFile($"summary{suffix}.png");
            w.RegisterFile($"summary{suffix}.svg");
        }
    }

    /// <summary>What a ROAD figure's title says of its replacement.</summary>
    public const string RoadName = "ROAD: noisy linear imputation";

    static string RoadTitle(string replacement) => replacement == DegradeConfig.Road ? $", {RoadName}" : "";

    // the config's name leads the subtitle (README: "shown in plot subtitles"), so figures of different runs are told apart
    static string Subtitle(PipelineConfig c, ITrack track, int images, string replacement) =>
        $"{c.Name}: {track.DatasetLabel}, {images} images, " +
        c.Quirks.Describe(c.Protocol) + (replacement == DegradeConfig.Road ? $", ROAD replacement (noise {c.Degrade.RoadNoise.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)}; B2 does not apply)" : "") +
        $", {c.Degrade.PatchSize}×{c.Degrade.PatchSize} patches";

    /// <summary>The saliency grid: input | one column per method.</summary>
    public static void WriteSaliency(ArtifactWriter w, PipelineConfig c, ITrack track, int imageCount,
        List<ImageRow> gridImages, List<(string Method, List<MapRow> Maps)> gridMaps)
    {
        if (gridImages.Count == 0) return;
        string subtitle = Subtitle(c, track, imageCount, DegradeConfig.Mean);
        using var scope = torch.NewDisposeScope();
        var inputs = track.ToInput(gridImages);
        long h = inputs.shape[2], wd = inputs.shape[3];
        var images = new List<GridImage>();
        for (int i = 0; i < gridImages.Count; i++)
        {
            // the maps explain the class the model predicts, which need not be the true label: say so
            var label = $"predicted: {track.ClassName(gridMaps[0].Maps[i].TargetClass)} (#{gridImages[i].ImageId})";
            images.Add(track.DisplayImage(label, inputs[i].contiguous().data<float>().ToArray()));
        }
        var maps = new float[gridImages.Count][][];
        for (int i = 0; i < gridImages.Count; i++)
            maps[i] = gridMaps.Select(g => ChannelSum(g.Maps[i].MapValues(), (int)(h * wd))).ToArray();
        SaliencyGrid.Save(new SaliencyGridInput(images, gridMaps.Select(g => g.Method).ToList(), maps, (int)h, (int)wd,
            Title: "Attribution maps (channel sum; red positive, blue negative)", Subtitle: subtitle), w.PathOf("saliency.png"), w.PathOf("saliency.svg"));
        w.RegisterFile("saliency.png");
        w.RegisterFile("saliency.svg");
    }

    /// <summary>One matrix per ranked order: pairwise_&lt;order&gt;.png/svg, cells oriented so red means the row method is better.</summary>
    public static void WritePairwise(ArtifactWriter w, PipelineConfig c, ITrack track, IReadOnlyList<PairwiseResult> pairwise, string replacement = DegradeConfig.Mean)
    {
        string family = DegradeConfig.Suffix(replacement), road = RoadTitle(replacement);
        foreach (var order in c.Degrade.Orders.Where(o => o != "random"))
        {
            var rows = pairwise.Where(r => r.Order == order).ToList();
            var methods = rows.Select(r => r.MethodA).Concat(rows.Select(r => r.MethodB)).Distinct().ToList();
            if (methods.Count < 2) continue;
            // advantage of A over B: the AUC difference signed so that positive = better for this order
            double sign = PairedStatistics.HigherIsBetter(order) ? 1 : -1;
            var cells = rows.SelectMany(r => new[]
            {
                new PairwiseCell(r.MethodA, r.MethodB, sign * r.MeanDiff, r.PHolm),
                new PairwiseCell(r.MethodB, r.MethodA, -sign * r.MeanDiff, r.PHolm),
            }).ToList();
            int n = rows.Max(r => r.Images);
            string better = PairedStatistics.HigherIsBetter(order) ? "higher" : "lower";
            PairwiseMatrix.Save(methods, cells, $"Paired comparison ({OrderLabel(order)}{road}): mean AUC advantage of row over column",
                $"{c.Name}: {track.DatasetLabel}, {n} images, paired per image; {better} AUC is better; red = row better",
                $"row's AUC advantage (positive = row better)", w.PathOf($"pairwise_{order}{family}.png"), w.PathOf($"pairwise_{order}{family}.svg"));
            w.RegisterFile($"pairwise_{order}{family}.png");
            w.RegisterFile($"pairwise_{order}{family}.svg");
        }
    }

    /// <summary>Each non-gradient-rule method → the method whose colour it shares (its gradient-rule twin, else its kind).</summary>
    public static Dictionary<string, string> PatternPairs(PipelineConfig c) =>
        c.Methods.Where(m => m.Rule != "gradient").ToDictionary(m => m.Name,
            m => c.Methods.FirstOrDefault(b => b.Kind == m.Kind && b.Rule == "gradient")?.Name ?? m.Kind);

    /// <summary>The papers' spelling of the degradation orders, used in every figure: MoRF, LeRF.</summary>
    public static string OrderLabel(string order) => order switch { "morf" => "MoRF", "lerf" => "LeRF", "insertion" => "insertion", _ => order };

    static float[] ChannelSum(float[] map, int hw)
    {
        var r = new float[hw];
        for (int c = 0; c < map.Length / hw; c++)
            for (int i = 0; i < hw; i++) r[i] += map[c * hw + i];
        return r;
    }
}
