using PgIg.Config;
using TorchSharp;

namespace PgIg.Cli;

/// <summary>Threads and device selection. The default build is CPU-only; device: cuda needs the CUDA build.</summary>
public static class TorchSetup
{
    /// <summary>Applies the thread setting and resolves `device` (auto: CUDA when the build and machine have it).</summary>
    public static torch.Device Configure(PipelineConfig cfg)
    {
        if (cfg.Threads > 0) torch.set_num_threads(cfg.Threads);
        if (cfg.Device == "cpu") return torch.CPU;
        bool cuda = CudaAvailable();
        if (cfg.Device == "cuda" && !cuda)
            throw new ConfigException($"{cfg.SourceFile}: device: cuda, but CUDA is not available. Build with -p:TorchBackend=cuda (needs the TorchSharp-cuda-linux package on your feed) or set device: auto.");
        return cuda ? torch.CUDA : torch.CPU;
    }

    static bool CudaAvailable()
    {
        try { return torch.cuda.is_available(); }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException) { return false; }
    }
}
