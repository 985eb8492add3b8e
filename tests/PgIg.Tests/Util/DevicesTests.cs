using PgIg.Cli;
using PgIg.Config;
using PgIg.Util;
using TorchSharp;
using Xunit;

namespace PgIg.Tests.Util;

/// <summary>The CPU build (what tests run on): auto falls back to the CPU, cuda is refused with the fix.</summary>
public class DevicesTests
{
    [Fact]
    public void Auto_and_cpu_resolve_to_the_cpu_without_a_cuda_build()
    {
        Assert.Equal(DeviceType.CPU, Devices.Resolve("cpu", "--device").type);
        if (!torch.cuda.is_available()) Assert.Equal(DeviceType.CPU, Devices.Resolve("auto", "--device").type);
        Devices.Synchronize(torch.CPU); // nothing to wait for, must not throw
    }

    [Fact]
    public void Cuda_without_cuda_names_the_setting_and_the_build_switch()
    {
        if (torch.cuda.is_available()) return; // a CUDA machine has nothing to refuse
        var e = Assert.Throws<CudaUnavailableException>(() => Devices.Resolve("cuda", "--device"));
        Assert.StartsWith("--device: cuda", e.Message);
        Assert.Contains("-p:TorchBackend=cuda", e.Message);

        var cfg = ConfigLoader.Parse("track: fashion-mnist\ndevice: cuda\nmethods: [vanilla_grad]\n", "my.yaml", null);
        var c = Assert.Throws<ConfigException>(() => TorchSetup.Configure(cfg));
        Assert.StartsWith("my.yaml: device: cuda", c.Message);
    }

    [Fact]
    public void Unknown_device_lists_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => Devices.Resolve("gpu", "--device"));
        Assert.Contains("auto, cpu, cuda", e.Message);
    }
}
