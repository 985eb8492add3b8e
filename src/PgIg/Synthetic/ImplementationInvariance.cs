namespace PgIg.Synthetic;

/// <summary>Patterns of the two networks of the implementation-invariance counter-example.</summary>
/// <param name="Network1Layer1">Pattern of ReLU(wᵀx) in network 1 (bias 0).</param>
/// <param name="Network1Layer2">Pattern of the second layer of network 1 (weight 1, bias −1).</param>
/// <param name="Network2Layer1">Pattern of ReLU(wᵀx − 1), the only layer of network 2.</param>
public sealed record InvariancePatterns(double[] Network1Layer1, double Network1Layer2, double[] Network2Layer1);

/// <summary>
/// The counter-example of <c>pattern-attribution-implementation-invariance-camera-ready.ipynb</c>:
/// network 1, ReLU(1·ReLU(wᵀx) − 1), and network 2, ReLU(wᵀx − 1), compute the same function but
/// apply the bias in different layers, so their positive regimes, patterns and PA maps differ.
/// </summary>
public static class ImplementationInvariance
{
    /// <summary>The shared first-layer weights w = (1, 2).</summary>
    public static double[] Weights => [1.0, 2.0];

    /// <summary>The bias b = 1 subtracted in layer 2 of network 1 and in layer 1 of network 2.</summary>
    public const double Bias = 1.0;

    /// <summary>
    /// Estimates the three patterns on inputs <paramref name="x"/> (N rows of 2). As in that notebook,
    /// each layer's positive regime and E[y] are taken on its pre-activation output.
    /// </summary>
    public static InvariancePatterns ComputePatterns(IReadOnlyList<double[]> x)
    {
        var w = Weights;
        var n1Layer1Out = new double[x.Count];
        var n1Layer2In = new double[x.Count][];
        var n1Layer2Out = new double[x.Count];
        var n2Layer1Out = new double[x.Count];
        for (int i = 0; i < x.Count; i++)
        {
            double z = NumpyOrder.Dot(w, x[i]);
            n1Layer1Out[i] = z;
            double relu = z > 0 ? z : 0.0; // max(np.array([0]), z) keeps 0 unless z > 0
            n1Layer2In[i] = [relu];
            n1Layer2Out[i] = relu - Bias;
            n2Layer1Out[i] = z - Bias;
        }
        return new InvariancePatterns(
            PatternEstimator.ComputePattern(x, n1Layer1Out, w, outerProductQuirk: false),
            PatternEstimator.ComputePattern(n1Layer2In, n1Layer2Out, [1.0], outerProductQuirk: false)[0],
            PatternEstimator.ComputePattern(x, n2Layer1Out, w, outerProductQuirk: false));
    }

    /// <summary>f(x) = ReLU(wᵀx − 1), which both networks compute.</summary>
    public static double Output(double[] x) => Math.Max(0.0, NumpyOrder.Dot(Weights, x) - Bias);

    /// <summary>PatternAttribution of network 1 at <paramref name="x"/>, seeded with its output.</summary>
    public static double[] PatternAttributionNetwork1(InvariancePatterns patterns, double[] x)
    {
        var w = Weights;
        double layer1 = NumpyOrder.Dot(w, x);
        double layer2 = (layer1 > 0 ? layer1 : 0.0) * 1.0 - Bias;
        double output = Math.Max(0.0, layer2);
        // Backward through w ⊙ a, each ReLU passing the gradient only where its pre-activation was > 0
        // (the notebook asserts that neither filters at its input (3, 3)).
        double grad = layer2 > 0 ? (1.0 * patterns.Network1Layer2) * output : 0.0;
        grad = layer1 > 0 ? grad : 0.0;
        return [(w[0] * patterns.Network1Layer1[0]) * grad, (w[1] * patterns.Network1Layer1[1]) * grad];
    }

    /// <summary>PatternAttribution of network 2 at <paramref name="x"/>, seeded with its output.</summary>
    public static double[] PatternAttributionNetwork2(InvariancePatterns patterns, double[] x)
    {
        var w = Weights;
        double layer1 = NumpyOrder.Dot(w, x) - Bias;
        double grad = layer1 > 0 ? Math.Max(0.0, layer1) : 0.0;
        return [(w[0] * patterns.Network2Layer1[0]) * grad, (w[1] * patterns.Network2Layer1[1]) * grad];
    }
}
