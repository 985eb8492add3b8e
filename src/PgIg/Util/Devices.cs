using TorchSharp;

namespace PgIg.Util;

/// <summary>The `device: auto|cpu|cuda` setting, shared by pipeline configs and <c>pgig bench --device</c>.</summary>
public static class Devices
{
    public static readonly IReadOnlyList<string> Choices = ["auto", "cpu", "cuda"];

    /// <summary>auto: CUDA when the build and the machine have it, else the CPU.</summary>
    /// <param name="where">Names the setting in the error, e.g. "pipeline.yaml: device" or "--device".</param>
    public static torch.Device Resolve(string setting, string where)
    {
        if (setting == "cpu") return torch.CPU;
        if (setting is not ("auto" or "cuda"))
            throw new ArgumentException($"{where}: '{setting}' is not a device; use one of {string.Join(", ", Choices)}");
        bool cuda = CudaAvailable();
        if (setting == "cuda" && !cuda)
            throw new CudaUnavailableException($"{where}: cuda, but CUDA is not available. Build with -p:TorchBackend=cuda (needs the TorchSharp-cuda-linux package on your feed) or use auto.");
        return cuda ? torch.CUDA : torch.CPU;
    }

    /// <summary>Waits for queued GPU work, so wall-clock timings cover it; nothing to wait for on the CPU.</summary>
    public static void Synchronize(torch.Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }

    static bool CudaAvailable()
    {
        try { return torch.cuda.is_available(); }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException) { return false; }
    }
}

public sealed class CudaUnavailableException(string message) : Exception(message);
