using PgIg.Synthetic;
using Xunit;

namespace PgIg.Tests.Synthetic;

public class NumpyOrderTests
{
    [Fact]
    public void Arange_fills_with_the_rounded_first_step_like_numpy()
    {
        var z = SyntheticExperiment.Targets();
        Assert.Equal(400, z.Length);
        Assert.Equal(-2.0, z[0]);
        Assert.Equal(1.0000000000000027, z[300]);
        Assert.Equal(1.9900000000000038, z[399]);
        // start + i·0.01 would give exactly 1.0 here; NumPy's delta is (−2 + 0.01) + 2.
        Assert.NotEqual(-2.0 + 300 * 0.01, z[300]);
        Assert.Equal(SyntheticFixtures.Column("z.csv"), z);
    }

    [Fact]
    public void Arange_handles_short_and_empty_ranges()
    {
        Assert.Empty(NumpyOrder.Arange(1, 1, 0.5));
        Assert.Equal(new[] { 1.0 }, NumpyOrder.Arange(1, 1.4, 0.5));
        Assert.Equal(new[] { 0.0, 1.0, 2.0 }, NumpyOrder.Arange(0, 3, 1));
        Assert.Throws<ArgumentException>(() => NumpyOrder.Arange(0, 1, 0));
    }

    [Fact]
    public void Pairwise_sum_groups_like_numpy()
    {
        // 1e16 + 1 + 1 … : left-to-right summation loses every 1; NumPy's eight accumulators keep some.
        var values = new double[16];
        values[0] = 1e16;
        for (int i = 1; i < 16; i++) values[i] = 1.0;
        double sequential = 0;
        foreach (var v in values) sequential += v;
        Assert.Equal(1e16, sequential);
        // r0 = 1e16 + 1 (lost), r1..r7 = 2 each → ((1e16 + 2) + 4) + (4 + 4) = 1e16 + 14.
        Assert.Equal(1e16 + 14, NumpyOrder.PairwiseSum(values));
        Assert.Equal(0.0, NumpyOrder.Sum([]));
        Assert.True(double.IsNaN(NumpyOrder.Mean([])));
    }

    [Fact]
    public void Reductions_longer_than_the_buffer_are_summed_block_by_block()
    {
        // 8200 × 0.1: NumPy sums 8192 + 8 elements as two blocks; one pairwise tree over all rounds differently.
        var values = Enumerable.Repeat(0.1, 8200).ToArray();
        double blocks = 0.0 + NumpyOrder.PairwiseSum(values.AsSpan(0, 8192)) + NumpyOrder.PairwiseSum(values.AsSpan(8192));
        Assert.Equal(blocks, NumpyOrder.Sum(values));
        Assert.Equal(820.0000000000001, NumpyOrder.Sum(values));
        Assert.Equal(820.0000000000002, NumpyOrder.PairwiseSum(values));
    }

    [Fact]
    public void Outer_product_mean_is_the_mean_of_all_pairs()
    {
        double[] x = [1.0, 2.0, 4.0];
        double[] y = [0.5, 3.0];
        double expected = (0.5 + 1 + 2 + 3 + 6 + 12) / 6;
        Assert.Equal(expected, NumpyOrder.OuterProductMean(x, y), 15);
        Assert.True(double.IsNaN(NumpyOrder.OuterProductMean([], y)));
    }

    [Fact]
    public void Csv_index_column_is_checked()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "0.0,1.5\n2.0,2.5\n");
            Assert.Throws<FormatException>(() => NumpyText.LoadIndexedColumn(path));
            File.WriteAllText(path, "0.0,1.5\n1.0,-0.000000000000000000e+00\n");
            var values = NumpyText.LoadIndexedColumn(path);
            Assert.Equal(1.5, values[0]);
            Assert.True(double.IsNegative(values[1]));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
