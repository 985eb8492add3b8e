namespace PgIg.Degradation;

/// <summary>Rows [R0, R1) × columns [C0, C1) of an image; empty when either range is.</summary>
public readonly record struct PixelBox(int R0, int R1, int C0, int C1)
{
    public bool IsEmpty => R0 >= R1 || C0 >= C1;
    public static PixelBox Empty => new(0, 0, 0, 0);
    public PixelBox Union(PixelBox o) => IsEmpty ? o : o.IsEmpty ? this
        : new(Math.Min(R0, o.R0), Math.Max(R1, o.R1), Math.Min(C0, o.C0), Math.Max(C1, o.C1));
}

/// <summary>
/// ROAD's noisy linear imputation of one image (Rong, Leemann et al., "A Consistent and Efficient Evaluation Strategy
/// for Attribution Methods", ICML 2022), as its reference implementation does it (github.com/tleemann/road_evaluation,
/// road/imputations.py, <c>NoisyLinearImputer</c>, <c>setup_sparse_system</c>): every removed pixel equals the weighted
/// mean of its 8 neighbours inside the image, direct neighbours weighing 1/6 and diagonal ones 1/12 (a neighbour outside
/// the image drops out, and the mean is over the remaining weight); known neighbours move to the right-hand side. One
/// sparse system per image, the same matrix for every channel. The reference solves it with scipy's spsolve and adds
/// <c>noise · randn</c> (noise = 0.01, absolute, in the units of the image it is given).
/// <para>
/// Here the system, D − W on the removed pixels with D the in-image neighbour weight, is symmetric (a neighbour's weight
/// is the same seen from either side) and positive definite on every 8-connected component of removed pixels that
/// touches a known pixel; a component that touches none is closed under neighbours and so is the whole image, which is
/// then set to 0 (the normalisation's mean colour) plus noise. Each component is solved by Jacobi-preconditioned
/// conjugate gradients in float64 to a relative residual of 1e-12. Pixels are removed patch by patch: only the component
/// a new patch joins changes, and it is solved again starting from its previous solution, so a step costs about what
/// that component needs. The noise is one fixed field per image (the caller's), so a pixel's noise does not change
/// from step to step.
/// </para>
/// </summary>
public sealed class NoisyLinearImputer
{
    /// <summary>Neighbour offsets (row, column) and weights of the reference implementation.</summary>
    public static readonly (int Dr, int Dc, double W)[] Neighbours =
    [
        (1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (-1, 1, 1.0 / 12), (1, -1, 1.0 / 12),
        (0, -1, 1.0 / 6), (-1, -1, 1.0 / 12), (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6),
    ];

    /// <summary>Conjugate gradients stop at ‖r‖ ≤ this × ‖b‖ (b: the known neighbours' weighted values).</summary>
    public const double RelativeTolerance = 1e-12;

    readonly int _c, _h, _w, _plane;
    readonly float[] _clean;     // C×H×W, the model input
    readonly float[]? _noise;    // C×H×W, added to removed pixels
    readonly bool[] _removed;    // H×W
    readonly double[] _solution; // C×H×W, the imputed value (before noise) where removed

    /// <summary>Conjugate-gradient iterations so far, over all channels and solves (for benchmarks).</summary>
    public long Iterations { get; private set; }

    /// <param name="clean">The image, C×H×W.</param>
    /// <param name="noise">Added to every removed pixel, C×H×W (already in the image's units); null: no noise.</param>
    public NoisyLinearImputer(float[] clean, int channels, int height, int width, float[]? noise = null)
    {
        _c = channels; _h = height; _w = width; _plane = height * width;
        if (clean.Length != _c * _plane) throw new ArgumentException($"image has {clean.Length} values, expected {_c}×{_h}×{_w}");
        if (noise is not null && noise.Length != clean.Length) throw new ArgumentException($"noise has {noise.Length} values, expected {clean.Length}");
        _clean = clean; _noise = noise;
        _removed = new bool[_plane];
        _solution = new double[_c * _plane];
    }

    public bool IsRemoved(int r, int c) => _removed[r * _w + c];

    /// <summary>The imputed value (with noise) of a removed pixel, or the clean one.</summary>
    public double Value(int ch, int r, int c)
    {
        int i = ch * _plane + r * _w + c;
        return _removed[r * _w + c] ? _solution[i] + (_noise?[i] ?? 0) : _clean[i];
    }

    /// <summary>Writes the current image (rows and columns of <paramref name="box"/>, all channels) as float32, C×h×w.</summary>
    public void CopyTo(PixelBox box, Span<float> dest)
    {
        int bh = box.R1 - box.R0, bw = box.C1 - box.C0, at = 0;
        if (dest.Length != _c * bh * bw) throw new ArgumentException($"destination holds {dest.Length} values, expected {_c}×{bh}×{bw}");
        for (int ch = 0; ch < _c; ch++)
            for (int r = box.R0; r < box.R1; r++)
                for (int c = box.C0; c < box.C1; c++)
                    dest[at++] = (float)Value(ch, r, c);
    }

    /// <summary>The whole current image.</summary>
    public PixelBox All => new(0, _h, 0, _w);

    /// <summary>
    /// Removes the pixels of <paramref name="box"/> (those not removed yet) and imputes again the component they join.
    /// Returns the box of every pixel whose value may have changed (empty when nothing new was removed).
    /// </summary>
    public PixelBox Remove(PixelBox box)
    {
        var pixels = new List<int>();
        for (int r = Math.Max(0, box.R0); r < Math.Min(_h, box.R1); r++)
            for (int c = Math.Max(0, box.C0); c < Math.Min(_w, box.C1); c++)
                pixels.Add(r * _w + c);
        return Remove(pixels);
    }

    /// <summary>Removes pixels (row · W + column) and imputes again the components they join; returns the changed box.</summary>
    public PixelBox Remove(IEnumerable<int> pixels)
    {
        var fresh = new List<int>();
        foreach (int p in pixels)
            if (!_removed[p]) { _removed[p] = true; fresh.Add(p); }
        if (fresh.Count == 0) return PixelBox.Empty;
        var component = Component(fresh);
        var isFresh = new HashSet<int>(fresh);
        Solve(component, isFresh);
        var changed = PixelBox.Empty;
        foreach (int p in component) changed = changed.Union(new PixelBox(p / _w, p / _w + 1, p % _w, p % _w + 1));
        return changed;
    }

    /// <summary>Imputes the removed pixels of <paramref name="removed"/> (H×W) in one go: the reference solution for tests.</summary>
    public static double[] Impute(float[] clean, bool[] removed, int channels, int height, int width, float[]? noise = null)
    {
        var imp = new NoisyLinearImputer(clean, channels, height, width, noise);
        imp.Remove(Enumerable.Range(0, height * width).Where(p => removed[p]));
        var result = new double[clean.Length];
        for (int ch = 0; ch < channels; ch++)
            for (int r = 0; r < height; r++)
                for (int c = 0; c < width; c++)
                    result[(ch * height + r) * width + c] = imp.Value(ch, r, c);
        return result;
    }

    /// <summary>The 8-connected component of removed pixels that holds the seeds (breadth first).</summary>
    List<int> Component(List<int> seeds)
    {
        var seen = new HashSet<int>(seeds);
        var queue = new Queue<int>(seeds);
        var result = new List<int>();
        while (queue.Count > 0)
        {
            int p = queue.Dequeue();
            result.Add(p);
            int r = p / _w, c = p % _w;
            foreach (var (dr, dc, _) in Neighbours)
            {
                int rr = r + dr, cc = c + dc;
                if (rr < 0 || rr >= _h || cc < 0 || cc >= _w) continue;
                int q = rr * _w + cc;
                if (_removed[q] && seen.Add(q)) queue.Enqueue(q);
            }
        }
        result.Sort();   // a fixed order, whatever order the patches came in: the same sums, the same rounding
        return result;
    }

    /// <summary>Solves (D − W) x = b on one component, per channel, and stores x.</summary>
    void Solve(List<int> component, HashSet<int> fresh)
    {
        int n = component.Count;
        var local = new Dictionary<int, int>(n);
        for (int i = 0; i < n; i++) local[component[i]] = i;
        // the matrix in compressed rows: off-diagonal entries −w to removed neighbours; known ones go to b
        var diag = new double[n];
        var rowStart = new int[n + 1];
        var cols = new List<int>(8 * n);
        var vals = new List<double>(8 * n);
        var knownAt = new List<int>();          // (pixel, weight) pairs of known neighbours, row by row
        var knownW = new List<double>();
        var knownStart = new int[n + 1];
        for (int i = 0; i < n; i++)
        {
            int p = component[i], r = p / _w, c = p % _w;
            rowStart[i] = cols.Count;
            knownStart[i] = knownAt.Count;
            foreach (var (dr, dc, wt) in Neighbours)
            {
                int rr = r + dr, cc = c + dc;
                if (rr < 0 || rr >= _h || cc < 0 || cc >= _w) continue;
                diag[i] += wt;
                int q = rr * _w + cc;
                if (_removed[q]) { cols.Add(local[q]); vals.Add(wt); }
                else { knownAt.Add(q); knownW.Add(wt); }
            }
        }
        rowStart[n] = cols.Count;
        knownStart[n] = knownAt.Count;
        var colA = cols.ToArray();
        var valA = vals.ToArray();

        var b = new double[n];
        var x = new double[n];
        var rv = new double[n];
        var z = new double[n];
        var pv = new double[n];
        var q2 = new double[n];
        for (int ch = 0; ch < _c; ch++)
        {
            int off = ch * _plane;
            if (knownAt.Count == 0)
            {
                // every pixel is removed: nothing to impute from; the normalisation's mean colour
                foreach (int p in component) _solution[off + p] = 0;
                continue;
            }
            double knownSum = 0, knownWeight = 0;
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int k = knownStart[i]; k < knownStart[i + 1]; k++) s += knownW[k] * _clean[off + knownAt[k]];
                b[i] = s;
                knownSum += s;
            }
            for (int k = 0; k < knownW.Count; k++) knownWeight += knownW[k];
            // start: the previous solution, and for newly removed pixels the mean of the component's known border
            double start = knownSum / knownWeight;
            for (int i = 0; i < n; i++) x[i] = fresh.Contains(component[i]) ? start : _solution[off + component[i]];

            double bNorm = Math.Sqrt(Dot(b, b, n));
            double tol = RelativeTolerance * bNorm;
            // r = b − A x
            Multiply(x, q2);
            for (int i = 0; i < n; i++) rv[i] = b[i] - q2[i];
            double rNorm = Math.Sqrt(Dot(rv, rv, n));
            int maxIterations = 10 * n + 100;
            if (rNorm > tol)
            {
                for (int i = 0; i < n; i++) { z[i] = rv[i] / diag[i]; pv[i] = z[i]; }
                double rz = Dot(rv, z, n);
                int it = 0;
                while (rNorm > tol)
                {
                    if (++it > maxIterations)
                        throw new InvalidOperationException($"ROAD imputation did not converge: ‖r‖ = {rNorm:G3} > {tol:G3} after {maxIterations} iterations on {n} pixels");
                    Multiply(pv, q2);
                    double alpha = rz / Dot(pv, q2, n);
                    for (int i = 0; i < n; i++) { x[i] += alpha * pv[i]; rv[i] -= alpha * q2[i]; }
                    rNorm = Math.Sqrt(Dot(rv, rv, n));
                    for (int i = 0; i < n; i++) z[i] = rv[i] / diag[i];
                    double rzNew = Dot(rv, z, n);
                    double beta = rzNew / rz;
                    rz = rzNew;
                    for (int i = 0; i < n; i++) pv[i] = z[i] + beta * pv[i];
                }
                Iterations += it;
            }
            for (int i = 0; i < n; i++) _solution[off + component[i]] = x[i];
        }

        void Multiply(double[] v, double[] result)
        {
            for (int i = 0; i < n; i++)
            {
                double s = diag[i] * v[i];
                for (int k = rowStart[i]; k < rowStart[i + 1]; k++) s -= valA[k] * v[colA[k]];
                result[i] = s;
            }
        }
    }

    static double Dot(double[] a, double[] b, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += a[i] * b[i];
        return s;
    }
}
