namespace PgIg.Util;

/// <summary>Bit-exact re-implementations of the few NumPy routines whose rounding the original depends on.</summary>
public static class NumpyCompat
{
    /// <summary>np.arange(start, stop, step) for float64: length ceil((stop−start)/step), values start + i·delta
    /// with delta = (start+step) − start, as NumPy's fill does.</summary>
    public static double[] Arange(double start, double stop, double step)
    {
        long n = (long)Math.Ceiling((stop - start) / step);
        if (n <= 0) return Array.Empty<double>();
        var r = new double[n];
        r[0] = start;
        if (n == 1) return r;
        double delta = (start + step) - start;
        for (long i = 1; i < n; i++) r[i] = start + i * delta;
        return r;
    }
}
