using PgIg.Bench;
using PgIg.Rules;
using TorchSharp;
using Xunit;

namespace PgIg.Tests.Bench;

/// <summary>The CPU chunk cap found with `pgig bench` changes only how a batch is split, not the gradients.</summary>
public class ChunkingTests
{
    [Fact]
    public void Cpu_chunks_are_capped_for_small_nets_only()
    {
        using var net = BenchRunner.BuildModel("fashion-cnn", 0);
        long per = net.TraceBytesPerExample();
        var bp = new Backprop(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax, 1L << 30);
        Assert.Equal((1L << 30) / per, bp.ChunkSize);
        Assert.Equal(Backprop.CpuChunkBytes / per, bp.CpuChunkSize);
        var small = new Backprop(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax, 16L << 20);
        Assert.Equal(small.ChunkSize, small.CpuChunkSize); // the budget is the tighter bound
    }

    [Fact]
    public void Gradients_do_not_depend_on_the_chunking()
    {
        using var net = BenchRunner.BuildModel("fashion-cnn", 0);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(new long[] { 23, 1, 28, 28 }, generator: new torch.Generator(7));
        var classes = net.Forward(x).argmax(-1);
        long per = net.TraceBytesPerExample();
        var whole = new Backprop(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax, 64 * per).InputGradients(x, classes);
        // 23 examples in chunks of at most 5: five balanced chunks of 4–5, none of a lone example
        var chunked = new Backprop(net, new GradientRule(net), SeedMode.One, OutputHead.Softmax, 5 * per + 1).InputGradients(x, classes);
        // libtorch may pick other kernels for other batch sizes, so only float rounding may differ
        double diff = (whole - chunked).abs().max().ToDouble(), scale = whole.abs().max().ToDouble();
        Assert.True(scale > 0 && diff <= 1e-5 * scale, $"max |Δ| {diff} at max |g| {scale}");
    }
}
