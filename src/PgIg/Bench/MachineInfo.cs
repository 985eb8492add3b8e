using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace PgIg.Bench;

/// <summary>What a benchmark number depends on: CPU, cores, memory, OS and library versions.</summary>
public sealed record MachineInfo(string Cpu, int LogicalCores, long? MemoryBytes, string Os, string Runtime, string TorchSharp, string LibTorch, int TorchThreads)
{
    public static MachineInfo Current() => new(
        CpuModel() ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Environment.ProcessorCount,
        MemTotal(),
        OsName(),
        RuntimeInformation.FrameworkDescription,
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "?",
        torch.__version__,
        torch.get_num_threads());

    public string Describe() =>
        $"{Cpu}, {LogicalCores} logical cores, {(MemoryBytes is long m ? $"{m / (1024.0 * 1024 * 1024):0.0} GiB RAM" : "RAM unknown")}, " +
        $"{Os}, {Runtime}, TorchSharp {TorchSharp}, libtorch {LibTorch} (CPU), {TorchThreads} torch threads";

    /// <summary>1-minute load average (Linux), to show how busy a shared machine was during a run.</summary>
    public static double? LoadAverage()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path)) return null;
        var first = File.ReadAllText(path).Split(' ')[0];
        return double.TryParse(first, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) ? v : null;
    }

    static string? CpuModel() => ProcField("/proc/cpuinfo", "model name");

    static long? MemTotal()
    {
        var v = ProcField("/proc/meminfo", "MemTotal");
        return v is not null && long.TryParse(v.Split(' ')[0], out long kb) ? kb * 1024 : null;
    }

    static string OsName()
    {
        var pretty = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"')
            : null;
        return pretty is null ? RuntimeInformation.OSDescription : $"{pretty} (kernel {Environment.OSVersion.Version})";
    }

    static string? ProcField(string path, string key)
    {
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim() == key) return line[(colon + 1)..].Trim();
        }
        return null;
    }
}
