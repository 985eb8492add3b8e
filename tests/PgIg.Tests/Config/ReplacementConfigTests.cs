using PgIg.Config;
using Xunit;

namespace PgIg.Tests.Config;

/// <summary>degrade.replacement and degrade.road_noise: what loads, and the one-line errors of what does not.</summary>
public sealed class ReplacementConfigTests
{
    static PipelineConfig Load(string degrade) => ConfigLoader.Parse($"track: fashion-mnist\ndegrade:\n{degrade}methods: [vanilla_grad]\n", "test.yaml");

    static string Error(string degrade)
    {
        var msg = Assert.Throws<ConfigException>(() => Load(degrade)).Message;
        Assert.DoesNotContain('\n', msg);
        return msg;
    }

    [Fact]
    public void Mean_is_the_default_and_a_single_value_or_a_list_loads()
    {
        Assert.Equal(["mean"], Load("  patch_size: 4\n").Degrade.Replacements);
        Assert.Equal(["road"], Load("  replacement: road\n").Degrade.Replacements);
        var both = Load("  replacement: [mean, road]\n  road_noise: 0.02\n").Degrade;
        Assert.Equal(["mean", "road"], both.Replacements);
        Assert.Equal(0.02, both.RoadNoise);
        Assert.Equal(DegradeConfig.DefaultRoadNoise, Load("  replacement: road\n").Degrade.RoadNoise);
    }

    [Fact]
    public void Bad_replacements_name_the_field_and_the_fix()
    {
        var msg = Error("  replacement: raod\n");
        Assert.StartsWith("test.yaml:3:16:", msg);
        Assert.Contains("field 'degrade.replacement' has 'raod' (did you mean 'road'?); valid choices: mean, road", msg);
        Assert.Contains("lists a replacement twice", Error("  replacement: [road, road]\n"));
        Assert.Contains("is an empty list", Error("  replacement: []\n"));
    }

    [Fact]
    public void Road_with_insertion_is_refused_at_load()
    {
        var msg = Error("  orders: [morf, insertion]\n  replacement: [mean, road]\n");
        Assert.Contains("field 'degrade.replacement' has road, which is not defined for the insertion order", msg);
        Assert.Contains("remove insertion from degrade.orders or road from degrade.replacement", msg);
        // mean with insertion stays valid
        Assert.Equal(["morf", "insertion"], Load("  orders: [morf, insertion]\n  replacement: mean\n").Degrade.Orders);
    }

    [Fact]
    public void Road_noise_needs_road_and_must_not_be_negative()
    {
        Assert.Contains("field 'degrade.road_noise' applies only to ROAD replacement; add road to degrade.replacement or remove road_noise", Error("  road_noise: 0.05\n"));
        Assert.Contains("field 'degrade.road_noise' must be >= 0", Error("  replacement: road\n  road_noise: -1\n"));
    }
}
