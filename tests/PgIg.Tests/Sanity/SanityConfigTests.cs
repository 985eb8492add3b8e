using PgIg.Config;
using PgIg.Sanity;
using Xunit;

namespace PgIg.Tests.Sanity;

/// <summary>The sanity section is checked when the config is loaded, with the line, the field and the fix.</summary>
public sealed class SanityConfigTests
{
    static PipelineConfig Load(string sanity, string extra = "") =>
        ConfigLoader.Parse($"track: fashion-mnist\nbatch_size: 10\nseed: 4\n{extra}{sanity}\nmethods: [vanilla_grad]\n", "test.yaml");

    static string Error(string sanity, string extra = "") => Assert.Throws<ConfigException>(() => Load(sanity, extra)).Message;

    [Fact]
    public void Off_without_the_section_and_on_with_defaults_with_it()
    {
        Assert.False(Load("").Sanity.Enabled);
        var s = Load("sanity: {}").Sanity;
        Assert.Equal(new SanityConfig(true, 50, 4, null), s);                     // 50 images, the config's seed, every layer
        Assert.Equal(100, SanityConfig.DefaultImages(100));                       // rounded up to whole batches
        Assert.Equal(new SanityConfig(false, 20, 9, 2), Load("sanity: {enabled: false, images: 20, seed: 9, layers: 2}").Sanity);
        Assert.Equal(["dense2", "dense1"], CascadeLayers.Levels(Load("sanity: {layers: 2}")));
        Assert.Equal(["dense2", "dense1", "conv4", "conv3", "conv2", "conv1"], CascadeLayers.Levels(Load("sanity: {}")));
    }

    [Fact]
    public void Bad_fields_name_the_line_and_the_fix()
    {
        var typo = Error("sanity:\n  imges: 20");
        Assert.StartsWith("test.yaml:5:3:", typo);
        Assert.Contains("unknown field 'sanity.imges' (did you mean 'images'?)", typo);
        var batches = Error("sanity:\n  images: 25");
        Assert.StartsWith("test.yaml:5:11:", batches);
        Assert.Contains("'sanity.images' (25) must be a multiple of batch_size (10)", batches);
        Assert.Contains("use 20 or 30", batches);
        var layers = Error("sanity: {layers: 7}");
        Assert.Contains("'sanity.layers' (7) exceeds the model's 6 conv/dense layers (conv1, conv2, conv3, conv4, dense1, dense2)", layers);
        Assert.Contains("must be between 1 and", Error("sanity: {layers: 0}"));
        Assert.Contains("must be true or false", Error("sanity: {enabled: maybe}"));
        Assert.Contains("must be a mapping", Error("sanity: 5"));
    }
}
