using PgIg.Patterns;
using Xunit;

namespace PgIg.Tests.ImageNetTrack;

public class PatternFitTests
{
    [Fact]
    public void Only_a_small_deviation_is_called_a_match()
    {
        Assert.Equal("  patterns match the model: mean |wᵀa − 1| = 0.0001 (≤ 0.05)", PatternFit.Describe(1e-4));
        Assert.StartsWith("  patterns match the model", PatternFit.Describe(0.05));
        var warning = PatternFit.Describe(1.4615);
        Assert.StartsWith("  warning: the patterns may not belong to this model: mean |wᵀa − 1| = 1.4615, above 0.05", warning);
        Assert.DoesNotContain("match the model", warning);
    }
}
