namespace PgIg.Synthetic;

/// <summary>
/// The notebook's differentiable dense layer with a single output unit (every layer there has one):
/// y = wᵀ[x; 1], optionally ReLU-activated. A unit bias is stored as weight 1.0 appended as the last
/// row, fed by a constant activation of 1.0.
/// </summary>
public class Linear
{
    readonly double[] weights;
    bool hasForward;

    public Linear(IReadOnlyList<double> weights, bool hasUnitBias = false, bool hasReluActivation = false)
    {
        if (weights.Count == 0) throw new ArgumentException("a layer needs at least one input weight", nameof(weights));
        HasUnitBias = hasUnitBias;
        HasReluActivation = hasReluActivation;
        this.weights = hasUnitBias ? [.. weights, 1.0] : [.. weights];
    }

    public bool HasUnitBias { get; }
    public bool HasReluActivation { get; }

    /// <summary>The weights including the bias row when there is one.</summary>
    public IReadOnlyList<double> Weights => weights;

    /// <summary>The weights without the bias row: what the pattern estimator sees.</summary>
    public double[] InputWeights => weights[..InputSize];

    public int InputSize => weights.Length - (HasUnitBias ? 1 : 0);

    /// <summary>wᵀ[x; 1] of the latest forward pass; the ReLU gate reads it.</summary>
    public double PreActivation { get; private set; } = double.NaN;

    public double Forward(ReadOnlySpan<double> x)
    {
        if (x.Length != InputSize) throw new ArgumentException($"expected {InputSize} inputs, got {x.Length}", nameof(x));
        double z;
        if (HasUnitBias)
        {
            Span<double> augmented = stackalloc double[weights.Length];
            x.CopyTo(augmented);
            augmented[^1] = 1.0;
            z = NumpyOrder.Dot(weights, augmented);
        }
        else
        {
            z = NumpyOrder.Dot(weights, x);
        }
        PreActivation = z;
        hasForward = true;
        // np.maximum propagates NaN, as Math.Max does.
        return HasReluActivation ? Math.Max(0.0, z) : z;
    }

    /// <summary>Gradient with respect to the inputs (bias row dropped) for an incoming gradient.</summary>
    public virtual double[] Backward(double gradient)
    {
        double gated = ReluGate(gradient);
        var result = new double[InputSize];
        for (int i = 0; i < result.Length; i++) result[i] = weights[i] * gated;
        return result;
    }

    /// <summary>The ReLU's backward: passes the gradient where the pre-activation was &gt; 0, else 0.</summary>
    protected double ReluGate(double gradient)
    {
        if (!HasReluActivation) return gradient;
        if (!hasForward) throw new InvalidOperationException("Perform a forward pass first.");
        return PreActivation > 0.0 ? gradient : 0.0;
    }
}

/// <summary>A layer whose backward pass uses a pattern estimated from data (the notebook's <c>Pattern</c>).</summary>
public abstract class PatternLayer : Linear
{
    double[]? pattern;

    protected PatternLayer(IReadOnlyList<double> weights, bool hasUnitBias, bool hasReluActivation, IReadOnlyList<double>? pattern)
        : base(weights, hasUnitBias, hasReluActivation)
    {
        if (pattern is null) return;
        if (pattern.Count != Weights.Count)
            throw new ArgumentException($"pattern has {pattern.Count} rows, weights (with bias) have {Weights.Count}", nameof(pattern));
        this.pattern = [.. pattern];
    }

    /// <summary>The pattern with the same rows as <see cref="Linear.Weights"/>; the bias row's is 0.</summary>
    public IReadOnlyList<double>? Pattern => pattern;

    /// <summary>
    /// Runs the layer over its training inputs, estimates its pattern from them and returns the
    /// outputs (the next layer's inputs). A pattern, once set, cannot be replaced.
    /// </summary>
    public double[] SetPattern(IReadOnlyList<double[]> inputs, bool outerProductQuirk)
    {
        if (pattern is not null) throw new InvalidOperationException("For safety reasons patterns cannot be overwritten.");
        var outputs = new double[inputs.Count];
        for (int i = 0; i < inputs.Count; i++) outputs[i] = Forward(inputs[i]);
        var estimated = PatternEstimator.ComputePattern(inputs, outputs, InputWeights, outerProductQuirk);
        pattern = HasUnitBias ? [.. estimated, 0.0] : estimated; // a bias carries no signal: pattern 0
        return outputs;
    }

    protected double[] RequirePattern() =>
        pattern ?? throw new InvalidOperationException("The pattern is not set; call SetPattern first.");
}

/// <summary>PatternNet: the signal is propagated back through the pattern instead of the weights.</summary>
public sealed class PatternNetLayer : PatternLayer
{
    readonly bool applyReluGate;

    /// <param name="applyReluGate">
    /// The notebook computes the ReLU-gated gradient and then discards it (B16), so by default the
    /// gate is ignored; true applies it.
    /// </param>
    public PatternNetLayer(IReadOnlyList<double> weights, bool hasUnitBias = false, bool hasReluActivation = false,
        IReadOnlyList<double>? pattern = null, bool applyReluGate = false)
        : base(weights, hasUnitBias, hasReluActivation, pattern)
    {
        this.applyReluGate = applyReluGate;
    }

    public override double[] Backward(double gradient)
    {
        var p = RequirePattern();
        double g = applyReluGate ? ReluGate(gradient) : gradient;
        var result = new double[InputSize];
        for (int i = 0; i < result.Length; i++) result[i] = g * p[i];
        return result;
    }
}

/// <summary>PatternAttribution: the gradient is propagated back through w ⊙ a instead of w.</summary>
public sealed class PatternAttributionLayer : PatternLayer
{
    public PatternAttributionLayer(IReadOnlyList<double> weights, bool hasUnitBias = false, bool hasReluActivation = false,
        IReadOnlyList<double>? pattern = null)
        : base(weights, hasUnitBias, hasReluActivation, pattern)
    {
    }

    public override double[] Backward(double gradient)
    {
        var p = RequirePattern();
        double g = ReluGate(gradient);
        var result = new double[InputSize];
        for (int i = 0; i < result.Length; i++) result[i] = (Weights[i] * p[i]) * g;
        return result;
    }
}
