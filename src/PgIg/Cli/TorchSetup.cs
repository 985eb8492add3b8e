using PgIg.Config;
using TorchSharp;

namespace PgIg.Cli;

/// <summary>Threads and device selection. The default build is CPU-only; device: cuda needs the CUDA build.</summary>
public static class TorchSetup
{
    public static void Configure(PipelineConfig cfg)
    {
        if (cfg.Threads > 0) torch.set_num_threads(cfg.Threads);
        if (cfg.Device == "cuda" && !torch.cuda.is_available())
            throw new ConfigException($"{cfg.SourceFile}: device: cuda, but CUDA is not available. Build with -p:TorchBackend=cuda (needs the TorchSharp-cuda-linux package on your feed) or set device: auto.");
    }
}
