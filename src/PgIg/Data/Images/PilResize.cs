namespace PgIg.Data.Images;

/// <summary>
/// Bit-exact port of Pillow's <c>ImagingResample</c> (libImaging/Resample.c) for 8-bit RGB with the
/// BILINEAR (triangle, support 1) filter, as <c>Image.resize(size, Image.BILINEAR)</c> runs it.
/// </summary>
/// <remarks>
/// Target: Pillow 6.2.0 (used by the original). Its 8-bit resampler is the one introduced in Pillow 4.x
/// (fixed-point coefficients, rounded bounds, box argument) and is unchanged in later releases apart from
/// the clip8 table size; tests compare against values produced by Pillow 9.4 (no <c>reducing_gap</c>,
/// which is off by default). Pillow 6.2's Python layer returns a copy when the size is unchanged, and
/// only RGBA/LA get premultiplied (not relevant for RGB).
/// Uncertain: not checked against a real Pillow 6.2 build; the 6.2 source was not available here.
/// </remarks>
public static class PilResize
{
    const double Support = 1.0; // bilinear
    // 8 bits for the result, 2 for overflow/negative lobes; same constant as Pillow.
    const int PrecisionBits = 32 - 8 - 2;

    public static RgbImage Bilinear(RgbImage src, int outW, int outH)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outW);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outH);
        if (outW == src.Width && outH == src.Height) return new RgbImage(outW, outH, (byte[])src.Rgb.Clone());

        bool needHorizontal = outW != src.Width;
        bool needVertical = outH != src.Height;

        var vert = Coefficients.Compute(src.Height, outH);
        // Only rows [yFirst, yLast) feed the vertical pass, so the horizontal pass skips the rest.
        int yFirst = vert.Bounds[0];
        int yLast = vert.Bounds[(outH - 1) * 2] + vert.Bounds[(outH - 1) * 2 + 1];

        byte[] pixels = src.Rgb;
        int width = src.Width, height = src.Height;
        if (needHorizontal)
        {
            var horiz = Coefficients.Compute(src.Width, outW);
            for (int i = 0; i < outH; i++) vert.Bounds[i * 2] -= yFirst;
            pixels = Horizontal(src.Rgb, src.Width, yFirst, yLast - yFirst, outW, horiz);
            width = outW;
            height = yLast - yFirst;
        }
        if (needVertical)
        {
            pixels = Vertical(pixels, width, outH, vert);
            height = outH;
        }
        return new RgbImage(width, height, pixels);
    }

    static byte[] Horizontal(byte[] input, int inW, int rowOffset, int rows, int outW, Coefficients c)
    {
        var output = new byte[rows * outW * 3];
        for (int yy = 0; yy < rows; yy++)
        {
            int inRow = (yy + rowOffset) * inW * 3;
            for (int xx = 0; xx < outW; xx++)
            {
                int xmin = c.Bounds[xx * 2], xmax = c.Bounds[xx * 2 + 1], k = xx * c.KSize;
                int s0 = 1 << (PrecisionBits - 1), s1 = s0, s2 = s0;
                for (int x = 0; x < xmax; x++)
                {
                    int p = inRow + (x + xmin) * 3, w = c.Fixed[k + x];
                    s0 += input[p] * w;
                    s1 += input[p + 1] * w;
                    s2 += input[p + 2] * w;
                }
                int o = (yy * outW + xx) * 3;
                output[o] = Clip8(s0);
                output[o + 1] = Clip8(s1);
                output[o + 2] = Clip8(s2);
            }
        }
        return output;
    }

    static byte[] Vertical(byte[] input, int width, int outH, Coefficients c)
    {
        var output = new byte[outH * width * 3];
        for (int yy = 0; yy < outH; yy++)
        {
            int ymin = c.Bounds[yy * 2], ymax = c.Bounds[yy * 2 + 1], k = yy * c.KSize;
            for (int xx = 0; xx < width; xx++)
            {
                int s0 = 1 << (PrecisionBits - 1), s1 = s0, s2 = s0;
                for (int y = 0; y < ymax; y++)
                {
                    int p = ((y + ymin) * width + xx) * 3, w = c.Fixed[k + y];
                    s0 += input[p] * w;
                    s1 += input[p + 1] * w;
                    s2 += input[p + 2] * w;
                }
                int o = (yy * width + xx) * 3;
                output[o] = Clip8(s0);
                output[o + 1] = Clip8(s1);
                output[o + 2] = Clip8(s2);
            }
        }
        return output;
    }

    // Pillow looks up clip8_lookups[in >> PRECISION_BITS]: an arithmetic shift, then clamp to 0..255.
    static byte Clip8(int v) => (byte)Math.Clamp(v >> PrecisionBits, 0, 255);

    /// <summary>Pillow's <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c> for box (0, inSize).</summary>
    public sealed class Coefficients
    {
        public required int KSize { get; init; }
        /// <summary>Pairs (first input index, number of taps) per output index.</summary>
        public required int[] Bounds { get; init; }
        public required double[] Weights { get; init; }
        public required int[] Fixed { get; init; }

        public static Coefficients Compute(int inSize, int outSize)
        {
            // in0 = 0 and in1 = inSize are floats in Pillow; exact for any realistic size.
            double scale = (double)(float)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = Support * filterScale;
            int ksize = (int)Math.Ceiling(support) * 2 + 1;

            var bounds = new int[outSize * 2];
            var kk = new double[outSize * ksize];
            for (int xx = 0; xx < outSize; xx++)
            {
                double center = (xx + 0.5) * scale;
                double ww = 0.0;
                double ss = 1.0 / filterScale;
                // (int) casts truncate toward zero as in C; negatives are clamped right after.
                int xmin = (int)(center - support + 0.5);
                if (xmin < 0) xmin = 0;
                int xmax = (int)(center + support + 0.5);
                if (xmax > inSize) xmax = inSize;
                xmax -= xmin;
                int k = xx * ksize;
                for (int x = 0; x < xmax; x++)
                {
                    double w = Triangle((x + xmin - center + 0.5) * ss);
                    kk[k + x] = w;
                    ww += w;
                }
                for (int x = 0; x < xmax; x++)
                    if (ww != 0.0) kk[k + x] /= ww;
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }

            var fixedK = new int[kk.Length];
            for (int i = 0; i < kk.Length; i++)
                fixedK[i] = kk[i] < 0
                    ? (int)(-0.5 + kk[i] * (1 << PrecisionBits))
                    : (int)(0.5 + kk[i] * (1 << PrecisionBits));
            return new Coefficients { KSize = ksize, Bounds = bounds, Weights = kk, Fixed = fixedK };
        }

        static double Triangle(double x)
        {
            if (x < 0.0) x = -x;
            return x < 1.0 ? 1.0 - x : 0.0;
        }
    }
}
