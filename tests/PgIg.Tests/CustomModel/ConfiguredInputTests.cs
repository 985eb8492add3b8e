using PgIg.Config;
using PgIg.Pipeline;
using PgIg.Tracks;
using Xunit;

namespace PgIg.Tests.CustomModel;

/// <summary>model.input: channel order and (pixel · scale − mean) / std per channel, and back for figures.</summary>
public class ConfiguredInputTests
{
    // a 1×2 image: pixel 0 = (R 10, G 20, B 30), pixel 1 = (R 200, G 100, B 0), stored as R, G, B planes
    static readonly ImageRow Row = new() { ImageId = 7, Channels = 3, Height = 1, Width = 2, Pixels = [10, 200, 20, 100, 30, 0] };

    [Theory]
    [InlineData(ChannelOrder.Rgb, new[] { 10, 200, 20, 100, 30, 0 })]
    [InlineData(ChannelOrder.Bgr, new[] { 30, 0, 20, 100, 10, 200 })]
    public void Planes_come_in_the_models_order_and_are_normalised_per_channel(ChannelOrder order, int[] planes)
    {
        double[] mean = [0.1, 0.2, 0.3], std = [0.5, 0.25, 2];
        var input = new ConfiguredInput(new InputConfig(1, 2, order, 1.0 / 255, mean, std));
        using var x = input.ToInput([Row]);
        Assert.Equal([1L, 3, 1, 2], x.shape);
        var values = x.data<float>().ToArray();
        for (int i = 0; i < 6; i++)
            Assert.Equal((float)((planes[i] / 255.0 - mean[i / 2]) / std[i / 2]), values[i]);

        // figures undo it: display RGB in 0–1 is the stored pixel / 255, whatever the model's order
        var shown = input.Display("x", values);
        Assert.False(shown.Bgr);
        var rgb = shown.ToRgb(1, 2);
        Assert.Equal([10, 20, 30, 200, 100, 0], rgb.Select(b => (int)b));
    }

    [Fact]
    public void Preprocess_key_holds_the_size_and_the_normalisation()
    {
        var a = new ConfiguredInput(new InputConfig(32, 48, ChannelOrder.Rgb, 1.0 / 255, [0.5, 0.5, 0.5], [0.2, 0.2, 0.2]));
        var b = new ConfiguredInput(new InputConfig(32, 48, ChannelOrder.Bgr, 1.0 / 255, [0.5, 0.5, 0.5], [0.2, 0.2, 0.2]));
        var c = new ConfiguredInput(new InputConfig(32, 48, ChannelOrder.Rgb, 1.0 / 255, [0.5, 0.5, 0.5], [0.2, 0.2, 0.3]));
        string Key(ConfiguredInput i) => Hashing.CanonicalJson(i.PreprocessConfig);
        Assert.NotEqual(Key(a), Key(b));
        Assert.NotEqual(Key(a), Key(c));
        Assert.Contains("\"size\":[32,48]", Key(a));
    }
}
