namespace PgIg.Synthetic;

/// <summary>A chain of single-output layers, as the notebook's <c>Sequential</c>.</summary>
public sealed class Sequential
{
    readonly Linear[] layers;

    public Sequential(params Linear[] layers)
    {
        if (layers.Length == 0) throw new ArgumentException("a network needs at least one layer", nameof(layers));
        for (int k = 1; k < layers.Length; k++)
        {
            // Each layer has one output unit, so every later layer must take exactly one input.
            if (layers[k].InputSize != 1)
                throw new ArgumentException($"layer {k} takes {layers[k].InputSize} inputs but layer {k - 1} has one output", nameof(layers));
        }
        this.layers = layers;
    }

    public IReadOnlyList<Linear> Layers => layers;

    public int InputSize => layers[0].InputSize;

    public double Forward(ReadOnlySpan<double> x)
    {
        double y = layers[0].Forward(x);
        for (int k = 1; k < layers.Length; k++) y = layers[k].Forward([y]);
        return y;
    }

    /// <summary>Propagates <paramref name="gradient"/> from the output back to the input of the latest forward pass.</summary>
    public double[] Backward(double gradient)
    {
        var g = layers[^1].Backward(gradient);
        for (int k = layers.Length - 2; k >= 0; k--) g = layers[k].Backward(g[0]);
        return g;
    }

    /// <summary>
    /// Estimates every layer's pattern from the data, layer by layer, each on the outputs of the one
    /// before. Returns the patterns (with their bias rows).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<double>> SetPatterns(IReadOnlyList<double[]> data, PatternEstimatorMode mode)
    {
        var patterns = new List<IReadOnlyList<double>>(layers.Length);
        IReadOnlyList<double[]> inputs = data;
        for (int k = 0; k < layers.Length; k++)
        {
            if (layers[k] is not PatternLayer layer) throw new InvalidOperationException($"layer {k} must be a pattern layer");
            // In the notebook only the first layer is fed N×D rows; with a unit bias its outputs come
            // back N×1×1 and the broadcast turns E[x₊y₊] into an outer-product mean (B15). Later layers
            // get N×1×1 inputs too, so their shapes agree and the product stays element-wise.
            bool quirk = mode == PatternEstimatorMode.Notebook && k == 0 && layer.HasUnitBias;
            var outputs = layer.SetPattern(inputs, quirk);
            patterns.Add(layer.Pattern!);
            inputs = outputs.Select(v => new[] { v }).ToArray();
        }
        return patterns;
    }
}
