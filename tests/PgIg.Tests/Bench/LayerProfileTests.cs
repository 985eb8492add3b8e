using PgIg.Bench;
using PgIg.Rules;
using TorchSharp;
using Xunit;

namespace PgIg.Tests.Bench;

public class LayerProfileTests
{
    [Fact]
    public void Profile_times_every_layer_and_runs_the_engines_own_pass()
    {
        using var net = BenchRunner.BuildModel("fashion-cnn", seed: 3);
        var rows = LayerProfile.Measure(net, examples: 5, memoryBudgetBytes: 64L << 20, repeats: 2, seed: 1, out var inputs, out var gradient);

        Assert.Equal(net.Layers.Count, rows.Count);
        Assert.All(rows, r => Assert.True(r.ForwardMs >= 0 && r.BackwardMs >= 0 && double.IsFinite(r.ForwardMs + r.BackwardMs)));
        // MACs per layer add up to the FLOP counter's forward MACs
        Assert.Equal(FlopCounter.ForwardMacs(net), rows.Sum(r => r.Macs));
        Assert.Equal("8×28×28", rows[0].Shape);

        // the profile times the engine's own pass: same gradient as a plain call
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(inputs).reshape(5, 1, 28, 28);
        using var rule = new GradientRule(net);
        var engine = new Backprop(net, rule, SeedMode.One, OutputHead.Softmax, 64L << 20)
            .InputGradients(x, torch.zeros(5, dtype: torch.ScalarType.Int64));
        Assert.Equal(engine.data<float>().ToArray(), gradient);

        var md = LayerProfile.Format(rows);
        Assert.Contains("| 0 | conv | 8×28×28 |", md);
        Assert.Contains("| **all** |", md);
    }
}
