using PgIg.Config;
using PgIg.Util;
using TorchSharp;

namespace PgIg.Cli;

/// <summary>Threads and device selection. The default build is CPU-only; device: cuda needs the CUDA build.</summary>
public static class TorchSetup
{
    /// <summary>Applies the thread setting and resolves `device` (auto: CUDA when the build and machine have it).</summary>
    public static torch.Device Configure(PipelineConfig cfg)
    {
        if (cfg.Threads > 0) torch.set_num_threads(cfg.Threads);
        try { return Devices.Resolve(cfg.Device, $"{cfg.SourceFile}: device"); }
        catch (CudaUnavailableException e) { throw new ConfigException(e.Message); }
    }
}
