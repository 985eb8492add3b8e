using PgIg.Cli;
using Xunit;

namespace PgIg.Tests.ImageNetTrack;

public class ExportFormatTests
{
    [Theory]
    [InlineData(0.1f, "0.1")]
    [InlineData(1f, "1.0")]
    [InlineData(100f, "100.0")]
    [InlineData(0.5f, "0.5")]
    [InlineData(0.029635796f, "0.029635796")]
    [InlineData(0.0001f, "1e-04")]      // float32(1e-4) = 9.99999975e-05 < 1e-4: NumPy compares in double, so scientific
    [InlineData(0.00010001f, "0.00010001")]
    [InlineData(0.00012345f, "0.00012345")]
    [InlineData(123.456f, "123.456")]
    [InlineData(1e-5f, "1e-05")]
    [InlineData(1.5e-7f, "1.5e-07")]
    [InlineData(3.4e-5f, "3.4e-05")]
    [InlineData(0f, "0.0")]
    [InlineData(-0.25f, "-0.25")]
    public void Values_are_printed_as_python_prints_numpy_float32(float v, string expected) =>
        Assert.Equal(expected, ResultsExporter.PyFloat32Str(v));

    [Fact]
    public void Results_csv_orders_columns_by_npy_file_name_like_load_results()
    {
        string[] methods = ["vanilla_grad", "pattern_vanilla_grad", "grad_x_input", "integrate_grad", "guided_backprop", "smooth_grad",
            "smooth_grad2", "sg_ig", "var_grad", "exp_grad", "pattern_integrate_grad", "random"];
        var curves = methods.Select((m, i) => (m, c: new[] { (50 + i) / 100f, 0.25f })).ToDictionary(x => x.m, x => x.c);
        var lines = ResultsExporter.ResultsCsv(curves, 2).Split('\n');
        // spec §7.5: glob order of "<method>_degradation.npy" puts smooth_grad2 before smooth_grad
        Assert.Equal("patches,exp_grad,grad_x_input,guided_backprop,integrate_grad,pattern_integrate_grad,pattern_vanilla_grad,random,sg_ig,smooth_grad2,smooth_grad,vanilla_grad,var_grad", lines[0]);
        Assert.Equal("0,0.59,0.52,0.54,0.53,0.6,0.51,0.61,0.57,0.56,0.55,0.5,0.58", lines[1]);
        Assert.StartsWith("1,0.25,", lines[2]);
        Assert.Equal(4, lines.Length); // header, 2 rows, trailing newline
    }
}
