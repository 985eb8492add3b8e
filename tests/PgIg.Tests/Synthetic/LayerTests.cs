using PgIg.Synthetic;
using Xunit;

namespace PgIg.Tests.Synthetic;

public class LayerTests
{
    [Fact]
    public void Relu_layer_needs_a_forward_pass_before_backward()
    {
        var layer = new Linear([1.0, 2.0], hasReluActivation: true);
        Assert.Throws<InvalidOperationException>(() => layer.Backward(1.0));
    }

    [Fact]
    public void Linear_layer_appends_the_bias_weight_and_drops_its_gradient()
    {
        var layer = new Linear([2.0, -3.0], hasUnitBias: true, hasReluActivation: true);
        Assert.Equal(new[] { 2.0, -3.0, 1.0 }, layer.Weights);
        Assert.Equal(2, layer.InputSize);
        Assert.Equal(2.0 * 1.5 - 3.0 * 0.5 + 1.0, layer.Forward([1.5, 0.5]));
        Assert.Equal(new[] { 4.0, -6.0 }, layer.Backward(2.0));
        Assert.Equal(0.0, layer.Forward([0.0, 1.0])); // pre-activation −2: ReLU gates
        Assert.Equal(-2.0, layer.PreActivation);
        Assert.Equal(new[] { 0.0, 0.0 }, layer.Backward(2.0));
    }

    [Fact]
    public void Conventional_net_is_the_saturating_function_with_its_gradient()
    {
        var net = SyntheticExperiment.ConventionalNet();
        Assert.Equal(0.5, net.Forward([0.75, 0.25]));
        Assert.Equal(new[] { 1.0, -1.0 }, net.Backward(1.0));
        Assert.Equal(1.0, net.Forward([3.0, 0.5])); // wᵀx = 2.5 ≥ 1: the plateau
        Assert.All(net.Backward(1.0), g => Assert.Equal(0.0, g));
    }

    [Fact]
    public void PatternNet_ignores_the_relu_gate_unless_asked_B16()
    {
        double[] pattern = [0.5, 0.25, 0.0];
        var notebook = new PatternNetLayer([1.0, 1.0], hasUnitBias: true, hasReluActivation: true, pattern: pattern);
        var gated = new PatternNetLayer([1.0, 1.0], hasUnitBias: true, hasReluActivation: true, pattern: pattern, applyReluGate: true);
        notebook.Forward([-3.0, 0.0]);
        gated.Forward([-3.0, 0.0]);
        Assert.Equal(new[] { 1.0, 0.5 }, notebook.Backward(2.0));
        Assert.Equal(new[] { 0.0, 0.0 }, gated.Backward(2.0));
    }

    [Fact]
    public void PatternAttribution_backpropagates_through_w_times_a_and_gates()
    {
        var layer = new PatternAttributionLayer([2.0, -1.0], hasUnitBias: true, hasReluActivation: true, pattern: [0.25, 0.5, 0.0]);
        layer.Forward([1.0, 1.0]);
        Assert.Equal(new[] { 2.0 * 0.25 * 4.0, -1.0 * 0.5 * 4.0 }, layer.Backward(4.0));
        layer.Forward([-1.0, 1.0]);
        Assert.Equal(new[] { 0.0, 0.0 }, layer.Backward(4.0).Select(Math.Abs));
    }

    [Fact]
    public void Patterns_must_fit_the_weights_and_cannot_be_overwritten()
    {
        Assert.Throws<ArgumentException>(() => new PatternAttributionLayer([1.0, 1.0], hasUnitBias: true, pattern: [1.0, 1.0]));
        var layer = new PatternAttributionLayer([1.0]);
        Assert.Throws<InvalidOperationException>(() => layer.Backward(1.0));
        layer.SetPattern([[1.0], [2.0], [-1.0]], outerProductQuirk: false);
        Assert.Throws<InvalidOperationException>(() => layer.SetPattern([[1.0]], outerProductQuirk: false));
    }

    [Fact]
    public void Sequential_rejects_layers_that_do_not_chain()
    {
        Assert.Throws<ArgumentException>(() => new Sequential(new Linear([1.0, 1.0]), new Linear([1.0, 1.0])));
        Assert.Throws<InvalidOperationException>(() =>
            new Sequential(new Linear([1.0])).SetPatterns([[1.0]], PatternEstimatorMode.Notebook));
    }

    [Fact]
    public void Walk_the_line_averages_gradients_and_can_seed_with_the_output_B17()
    {
        // A linear model 2x₁ + 3x₂: gradients are constant, seed 1 gives IG = x ⊙ w.
        var model = new Sequential(new Linear([2.0, 3.0]));
        var ig = SyntheticExperiment.WalkTheLine(model, [1.0, 1.0], [0.0, 0.0]);
        Assert.Equal(new[] { 2.0, 3.0 }, ig.Gradients);
        Assert.Equal(new[] { 2.0, 3.0 }, ig.Saliencies);
        // Seeding with the output α·5 scales step k by α_k; the mean of α = (k+1)/100 is 0.505.
        var seeded = SyntheticExperiment.WalkTheLine(model, [1.0, 1.0], [0.0, 0.0], seedWithOutput: true);
        Assert.Equal(2.0 * 5 * 0.505, seeded.Gradients[0], 1e-12);
        Assert.Equal(3.0 * 5 * 0.505, seeded.Gradients[1], 1e-12);
        // A baseline shifts the path: x − b = (2, 0).
        var shifted = SyntheticExperiment.WalkTheLine(model, [1.0, 1.0], [-1.0, 1.0], steps: 4);
        Assert.Equal(new[] { 4.0, 0.0 }, shifted.Saliencies);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticExperiment.WalkTheLine(model, [1.0, 1.0], [0.0, 0.0], steps: 0));
    }
}
