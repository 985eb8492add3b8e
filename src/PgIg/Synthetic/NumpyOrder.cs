namespace PgIg.Synthetic;

/// <summary>
/// Float64 primitives that follow NumPy's order of operations, so the synthetic notebook's numbers
/// (and its CSVs) are reproduced bit for bit rather than merely to within rounding.
/// </summary>
public static class NumpyOrder
{
    // NumPy's default ufunc buffer size: a reduction over a longer array is fed to the inner loop
    // in blocks of this many elements, each block summed pairwise, the block sums added in turn.
    // Matching this is what makes the notebook's outer-product mean (B15) agree to the last bit.
    const int ReduceBufferSize = 8192;

    // Leaf size of NumPy's pairwise summation (PW_BLOCKSIZE in loops_utils.h).
    const int PairwiseBlockSize = 128;

    /// <summary><c>np.add.reduce</c> of a contiguous float64 array.</summary>
    public static double Sum(ReadOnlySpan<double> values)
    {
        double total = 0.0; // the reduction starts from add's identity
        for (int start = 0; start < values.Length; start += ReduceBufferSize)
            total += PairwiseSum(values.Slice(start, Math.Min(ReduceBufferSize, values.Length - start)));
        return total;
    }

    /// <summary><c>np.mean</c>: the sum divided by the count (NaN for an empty array, as NumPy gives).</summary>
    public static double Mean(ReadOnlySpan<double> values) => Sum(values) / values.Length;

    /// <summary>
    /// <c>np.mean(x * y)</c> where x is (M,) and y is (M, 1): broadcasting makes the product the M×M
    /// outer product, element [i, j] = y[i]·x[j], reduced in row-major order. Streams the products
    /// block by block so that large M does not need an M² array.
    /// </summary>
    public static double OuterProductMean(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        long count = (long)x.Length * y.Length;
        if (count == 0) return double.NaN;
        var block = new double[(int)Math.Min(ReduceBufferSize, count)];
        double total = 0.0;
        int filled = 0;
        for (int i = 0; i < y.Length; i++)
        {
            for (int j = 0; j < x.Length; j++)
            {
                block[filled++] = x[j] * y[i];
                if (filled == block.Length)
                {
                    total += PairwiseSum(block);
                    filled = 0;
                }
            }
        }
        if (filled > 0) total += PairwiseSum(block.AsSpan(0, filled));
        return total / count;
    }

    /// <summary>NumPy's <c>pairwise_sum</c> for float64, including its 8-way unrolled leaves.</summary>
    public static double PairwiseSum(ReadOnlySpan<double> a)
    {
        int n = a.Length;
        if (n < 8)
        {
            double res = 0.0;
            for (int i = 0; i < n; i++) res += a[i];
            return res;
        }
        if (n <= PairwiseBlockSize)
        {
            double r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7];
            int i;
            for (i = 8; i < n - (n % 8); i += 8)
            {
                r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3];
                r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7];
            }
            double res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
            for (; i < n; i++) res += a[i];
            return res;
        }
        int half = n / 2;
        half -= half % 8;
        return PairwiseSum(a[..half]) + PairwiseSum(a[half..]);
    }

    /// <summary>
    /// A dot product accumulated left to right from 0, as the BLAS <c>ddot</c> behind a 1×n @ n×1
    /// <c>np.matmul</c> does for the short vectors of the notebook.
    /// </summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"length mismatch: {a.Length} vs {b.Length}");
        double acc = 0.0;
        for (int i = 0; i < a.Length; i++) acc += a[i] * b[i];
        return acc;
    }

    /// <summary>
    /// <c>np.arange(start, stop, step)</c> for float64. NumPy fills element i as start + i·delta with
    /// delta = (start + step) − start, not step itself: for arange(−2, 2, 0.01) delta is
    /// 0.010000000000000009, which is why z[300] is 1.0000000000000027 and z[399] 1.9900000000000038.
    /// </summary>
    public static double[] Arange(double start, double stop, double step)
    {
        if (step == 0 || double.IsNaN(step)) throw new ArgumentException("step must be a non-zero number", nameof(step));
        double span = Math.Ceiling((stop - start) / step);
        if (double.IsNaN(span) || span > int.MaxValue) throw new ArgumentException("arange length is not representable");
        int length = span > 0 ? (int)span : 0;
        var values = new double[length];
        if (length == 0) return values;
        values[0] = start;
        if (length == 1) return values;
        values[1] = start + step;
        double delta = values[1] - values[0];
        for (int i = 2; i < length; i++) values[i] = start + i * delta;
        return values;
    }
}
