using System.Runtime.InteropServices;

namespace PgIg.Synthetic;

/// <summary>How a network's patterns are estimated from its training inputs.</summary>
public enum PatternEstimatorMode
{
    /// <summary>
    /// As the notebook ran it (B15): a first layer with a unit bias produces N×1×1 outputs, so
    /// x₊·y₊ broadcasts to an outer product and E[x₊y₊] becomes a mean over all M² pairs, i.e.
    /// ≈ mean(x₊)·mean(y₊). The published CSVs were made this way.
    /// </summary>
    Notebook,

    /// <summary>E[x₊y₊] as the estimator intends it: the mean of the element-wise products.</summary>
    Corrected,
}

/// <summary>
/// The notebook's <c>compute_pattern</c>: Kindermans et al.'s positive-regime estimator
/// a₊ = (E₊[xy] − E₊[x]·E[y]) / (wᵀE₊[xy] − wᵀ(E₊[x]·E[y])), with E[y] taken over all samples.
/// </summary>
public static class PatternEstimator
{
    /// <param name="input">N rows of D input features.</param>
    /// <param name="output">N rows of O layer outputs; the positive regime is output &gt; 0.</param>
    /// <param name="weights">D×O weights (without bias row).</param>
    /// <param name="outerProductQuirk">Reproduce B15: E₊[xy] as the mean of the M×M outer product.</param>
    /// <returns>The D×O pattern.</returns>
    public static double[,] ComputePattern(
        IReadOnlyList<double[]> input, IReadOnlyList<double[]> output, double[,] weights, bool outerProductQuirk)
    {
        int n = input.Count, dimsIn = weights.GetLength(0), dimsOut = weights.GetLength(1);
        if (output.Count != n) throw new ArgumentException($"{n} inputs but {output.Count} outputs");
        for (int i = 0; i < n; i++)
        {
            if (input[i].Length != dimsIn) throw new ArgumentException($"input row {i} has {input[i].Length} features, weights expect {dimsIn}");
            if (output[i].Length != dimsOut) throw new ArgumentException($"output row {i} has {output[i].Length} units, weights expect {dimsOut}");
        }

        var ex = new double[dimsIn, dimsOut];
        var exy = new double[dimsIn, dimsOut];
        var xPlus = new List<double>(n);
        var yPlus = new List<double>(n);
        for (int d = 0; d < dimsIn; d++)
        {
            for (int o = 0; o < dimsOut; o++)
            {
                xPlus.Clear();
                yPlus.Clear();
                for (int i = 0; i < n; i++)
                {
                    if (output[i][o] > 0)
                    {
                        xPlus.Add(input[i][d]);
                        yPlus.Add(output[i][o]);
                    }
                }
                var xs = CollectionsMarshal.AsSpan(xPlus);
                var ys = CollectionsMarshal.AsSpan(yPlus);
                ex[d, o] = NumpyOrder.Mean(xs);
                exy[d, o] = outerProductQuirk ? NumpyOrder.OuterProductMean(xs, ys) : ElementwiseProductMean(xs, ys);
            }
        }

        // np.mean(output) runs over every element of the row-major N×O array.
        var flat = new double[n * dimsOut];
        for (int i = 0; i < n; i++) output[i].CopyTo(flat, i * dimsOut);
        double ey = NumpyOrder.Mean(flat);

        var pattern = new double[dimsIn, dimsOut];
        var w = new double[dimsIn];
        var exyColumn = new double[dimsIn];
        var exEyColumn = new double[dimsIn];
        for (int o = 0; o < dimsOut; o++)
        {
            for (int d = 0; d < dimsIn; d++)
            {
                w[d] = weights[d, o];
                exyColumn[d] = exy[d, o];
                exEyColumn[d] = ex[d, o] * ey;
            }
            // The notebook divides by the whole OxO matmul; every layer there has O = 1, where that is
            // this per-unit denominator. No zero-guard: the notebook has none either.
            double denominator = NumpyOrder.Dot(w, exyColumn) - NumpyOrder.Dot(w, exEyColumn);
            for (int d = 0; d < dimsIn; d++) pattern[d, o] = (exyColumn[d] - exEyColumn[d]) / denominator;
        }
        return pattern;
    }

    /// <summary>Single-output convenience overload: weights and pattern as vectors.</summary>
    public static double[] ComputePattern(
        IReadOnlyList<double[]> input, IReadOnlyList<double> output, IReadOnlyList<double> weights, bool outerProductQuirk)
    {
        var w = new double[weights.Count, 1];
        for (int d = 0; d < weights.Count; d++) w[d, 0] = weights[d];
        var y = output.Select(v => new[] { v }).ToArray();
        var p = ComputePattern(input, y, w, outerProductQuirk);
        var result = new double[weights.Count];
        for (int d = 0; d < result.Length; d++) result[d] = p[d, 0];
        return result;
    }

    static double ElementwiseProductMean(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var products = new double[x.Length];
        for (int i = 0; i < x.Length; i++) products[i] = x[i] * y[i];
        return NumpyOrder.Mean(products);
    }
}
