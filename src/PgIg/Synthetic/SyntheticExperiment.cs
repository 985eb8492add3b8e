namespace PgIg.Synthetic;

/// <summary>Averaged path gradients and the attributions (x − b) ⊙ gradients of <c>walk_the_line</c>.</summary>
public sealed record PathAttribution(double[] Gradients, double[] Saliencies);

/// <summary>Every number the notebook saves, computed for one data matrix.</summary>
public sealed record SyntheticResults(
    IReadOnlyList<IReadOnlyList<double>> Patterns,
    double[] Outputs,
    double[][] PatternAttribution,
    double[][] IntegratedGradients,
    double[][] PatternGuidedIntegratedGradients);

/// <summary>
/// The synthetic stress test of <c>synthetic.ipynb</c>: a signal z·(1, 0) plus a distractor ε·(1, 1),
/// the model w = (1, −1) that cancels the distractor, and the saturating network
/// f(x) = 1 − ReLU(1 − wᵀx) explained with PA, IG and PGIG.
/// </summary>
public static class SyntheticExperiment
{
    /// <summary>Number of path steps of <c>walk_the_line</c> in the notebook.</summary>
    public const int DefaultSteps = 100;

    /// <summary>The model w = (1, −1): wᵀx = z, the distractor cancels.</summary>
    public static double[] Weights => [1.0, -1.0];

    /// <summary>The targets z = arange(−2, 2, 0.01) (400 values, NumPy's fill order).</summary>
    public static double[] Targets() => NumpyOrder.Arange(-2, 2, 0.01);

    /// <summary>Signal rows z·(1, 0), element by element as NumPy's broadcast computes them (hence −0.0 for z &lt; 0).</summary>
    public static double[][] Signal(IReadOnlyList<double> z) => [.. z.Select(v => new[] { v * 1.0, v * 0.0 })];

    /// <summary>Distractor rows ε·(1, 1).</summary>
    public static double[][] Distractor(IReadOnlyList<double> epsilon) => [.. epsilon.Select(e => new[] { e * 1.0, e * 1.0 })];

    /// <summary>f(x) = 1 − ReLU(1 − wᵀx) as two layers: Linear(−w, bias 1, ReLU) and Linear((−1), bias 1).</summary>
    public static Sequential ConventionalNet() =>
        new(new Linear(NegatedWeights(), hasUnitBias: true, hasReluActivation: true),
            new Linear([-1.0], hasUnitBias: true));

    /// <summary>The same network with PatternAttribution layers whose patterns are estimated on <paramref name="data"/>.</summary>
    public static Sequential PatternAttributionNet(IReadOnlyList<double[]> data, PatternEstimatorMode mode = PatternEstimatorMode.Notebook)
    {
        var net = new Sequential(
            new PatternAttributionLayer(NegatedWeights(), hasUnitBias: true, hasReluActivation: true),
            new PatternAttributionLayer([-1.0], hasUnitBias: true));
        net.SetPatterns(data, mode);
        return net;
    }

    /// <summary>The linear model wᵀx as a PatternNet layer with its pattern estimated on <paramref name="data"/> (cell 10).</summary>
    public static PatternNetLayer LinearPatternNet(IReadOnlyList<double[]> data)
    {
        var layer = new PatternNetLayer(Weights);
        // No bias and 1-D rows give N×1 outputs in the notebook: shapes agree, no broadcast quirk.
        layer.SetPattern(data, outerProductQuirk: false);
        return layer;
    }

    /// <summary>PatternAttribution: one backward pass seeded with the network's own output f(x).</summary>
    public static double[] PatternAttribution(Sequential net, double[] x)
    {
        double prediction = net.Forward(x);
        return net.Backward(prediction);
    }

    /// <summary>
    /// The notebook's <c>walk_the_line</c>: gradients at α(x − b), α = (k + 1)/steps for k = 0…steps−1,
    /// averaged and multiplied by (x − b). On the plain network this is IG; on the PA network it is PGIG.
    /// </summary>
    /// <param name="seedWithOutput">
    /// The notebook's <c>is_pattern_guided</c>: seed each backward pass with the output instead of 1.
    /// The notebook's PGIG leaves it false (B17).
    /// </param>
    public static PathAttribution WalkTheLine(Sequential model, double[] x, double[] baseline,
        int steps = DefaultSteps, bool seedWithOutput = false)
    {
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(steps), "steps must be positive");
        int dims = model.InputSize;
        if (x.Length != dims || baseline.Length != dims) throw new ArgumentException($"x and baseline must have {dims} elements");

        var difference = new double[dims];
        for (int d = 0; d < dims; d++) difference[d] = x[d] - baseline[d];

        // Gradients are stored per dimension so each column is summed as NumPy sums grads[:, d].
        var columns = new double[dims][];
        for (int d = 0; d < dims; d++) columns[d] = new double[steps];
        var point = new double[dims];
        for (int step = 0; step < steps; step++)
        {
            double alpha = (step + 1) / (double)steps;
            for (int d = 0; d < dims; d++) point[d] = alpha * difference[d];
            double output = model.Forward(point);
            var grad = model.Backward(seedWithOutput ? output : 1.0);
            for (int d = 0; d < dims; d++) columns[d][step] = grad[d];
        }

        var gradients = new double[dims];
        var saliencies = new double[dims];
        for (int d = 0; d < dims; d++)
        {
            gradients[d] = NumpyOrder.Sum(columns[d]) / steps;
            saliencies[d] = difference[d] * gradients[d];
        }
        return new PathAttribution(gradients, saliencies);
    }

    /// <summary>Runs the notebook end to end on <paramref name="data"/>: patterns, f(x), PA, IG and PGIG per row.</summary>
    public static SyntheticResults Run(IReadOnlyList<double[]> data, PatternEstimatorMode mode = PatternEstimatorMode.Notebook,
        int steps = DefaultSteps)
    {
        var conventional = ConventionalNet();
        var patternNet = PatternAttributionNet(data, mode);
        var patterns = patternNet.Layers.Select(l => ((PatternLayer)l).Pattern!).ToArray();
        var baseline = new double[conventional.InputSize];

        var outputs = new double[data.Count];
        var pa = new double[data.Count][];
        var ig = new double[data.Count][];
        var pgig = new double[data.Count][];
        for (int i = 0; i < data.Count; i++)
        {
            outputs[i] = conventional.Forward(data[i]);
            pa[i] = PatternAttribution(patternNet, data[i]);
            ig[i] = WalkTheLine(conventional, data[i], baseline, steps).Saliencies;
            pgig[i] = WalkTheLine(patternNet, data[i], baseline, steps).Saliencies;
        }
        return new SyntheticResults(patterns, outputs, pa, ig, pgig);
    }

    static double[] NegatedWeights() => [.. Weights.Select(v => -v)];
}
