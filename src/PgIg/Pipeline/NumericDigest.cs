using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace PgIg.Pipeline;

/// <summary>
/// A hash of numbers that ignores their last bits: each tensor or series is rounded to <see cref="Digits"/> significant
/// digits of its largest magnitude, then hashed with its label and shape. Probes run in float64; between CPU types and
/// thread counts their results differ by round-off δ ≲ 1e-13 of the largest value (float64's 1e-16 per operation over a
/// few hundred operations). A value lands on another grid point only if it lies within δ of a rounding midpoint; the
/// grid step is at least 1e-6 of the largest value, so that happens with probability ≤ 2δ/1e-6 ≈ 2e-7 per value, and for
/// realistic δ ≈ 1e-15 about 2e-9, i.e. below 1e-5 for the few thousand values of a probe. A change of a value by 1e-4
/// of the largest moves it by at least 10 grid steps. Rounding to the largest magnitude rather than each value's own keeps
/// round-off garbage of cancellations (a variance of equal samples, 1e-17 instead of 0) from counting as digits.
/// </summary>
public sealed class NumericDigest(double perturbation = 0)
{
    public const int Digits = 6;

    readonly StringBuilder _text = new();

    /// <summary>Rounded values of a tensor (any dtype, any device), with its shape.</summary>
    public NumericDigest Add(string label, Tensor t)
    {
        using var scope = NewDisposeScope();
        var values = t.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        return AddSeries($"{label}[{string.Join(",", t.shape)}]", values);
    }

    /// <summary>Rounded values of a series, each rounded to the digits of the series' largest magnitude.</summary>
    public NumericDigest AddSeries(string label, IReadOnlyList<double> values)
    {
        var v = values.Select(x => x * (1 + perturbation)).ToArray();
        double scale = v.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        int exponent = scale == 0 ? 0 : (int)Math.Floor(Math.Log10(scale)) - (Digits - 1);
        double step = Math.Pow(10, exponent);
        _text.Append(label).Append(" e").Append(exponent.ToString(CultureInfo.InvariantCulture)).Append(':');
        foreach (var x in v)
            _text.Append(' ').Append(double.IsFinite(x) ? ((long)Math.Round(x / step)).ToString(CultureInfo.InvariantCulture) : x.ToString(CultureInfo.InvariantCulture));
        _text.Append('\n');
        return this;
    }

    /// <summary>Exact values (classes, orders, indices), which no rounding may blur.</summary>
    public NumericDigest AddExact(string label, IEnumerable<long> values)
    {
        _text.Append(label).Append(" =");
        foreach (var x in values) _text.Append(' ').Append(x.ToString(CultureInfo.InvariantCulture));
        _text.Append('\n');
        return this;
    }

    public string Hash => Hashing.Sha256Hex(_text.ToString());
}
