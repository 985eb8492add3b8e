using PgIg.Pipeline;
using PgIg.Tracks;
using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;

namespace PgIg.Stages;

/// <summary>
/// The noise of ROAD replacement. The reference implementation adds <c>noise · randn</c> to the imputed pixels of the
/// image it is given, which in ROAD's pipeline is the [0, 1] image before normalisation (run_road applies its
/// transform_test, e.g. normalisation, after the imputation). PgIg imputes the model input; the imputation commutes
/// with the per-channel affine normalisation (each imputed pixel is a weighted mean), so only the noise needs
/// converting: σ_c = noise × (input of a white pixel − input of a black one) in channel c.
/// </summary>
public static class RoadNoise
{
    /// <summary>Per input channel, the noise standard deviation in input units, measured through the track's own normalisation.</summary>
    public static double[] ChannelScale(ITrack track, ImageRow sample, double noise)
    {
        using var scope = torch.NewDisposeScope();
        ImageRow Filled(byte v) => new()
        {
            ImageId = sample.ImageId, Label = sample.Label, File = sample.File, Channels = sample.Channels, Height = sample.Height, Width = sample.Width,
            Pixels = Enumerable.Repeat(v, sample.Pixels.Length).ToArray(),
        };
        var range = (track.ToInput([Filled(255)]) - track.ToInput([Filled(0)])).to(ScalarType.Float64);
        // the range is one value per channel; take each channel's first pixel
        return range[0].flatten(1)[TensorIndex.Colon, 0].data<double>().Select(v => noise * Math.Abs(v)).ToArray();
    }

    /// <summary>One standard-normal field per image (C×H×W, from a generator seeded by (seed, image id)) times σ_c: B×C×H×W float32.</summary>
    public static Tensor Fields(Tensor x, long[] imageIds, long seed, double[] channelScale)
    {
        using var scope = torch.NewDisposeScope();
        long c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var scale = torch.tensor(channelScale, ScalarType.Float64).reshape(c, 1, 1);
        var fields = imageIds.Select(id =>
        {
            using var gen = Seeds.Generator(seed, "road-noise", id);
            return torch.randn(new[] { c, h, w }, dtype: ScalarType.Float64, generator: gen) * scale;
        }).ToList();
        return torch.stack(fields, 0).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
