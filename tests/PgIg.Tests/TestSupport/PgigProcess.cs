using System.Diagnostics;

namespace PgIg.Tests.TestSupport;

/// <summary>Runs the built `pgig` command (or another program) in a child process, as a user would.</summary>
public static class PgigProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "pgig.dll");

    static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string All => Stdout + Stderr;
    }

    /// <summary>`dotnet pgig.dll args...` in <paramref name="workDir"/>, stdout and stderr redirected (so not a terminal).</summary>
    public static Task<Result> RunAsync(string? workDir, IReadOnlyDictionary<string, string?>? env, params string[] args) =>
        RunProgramAsync(Dotnet, workDir, env, [Dll, .. args]);

    public static async Task<Result> RunProgramAsync(string program, string? workDir, IReadOnlyDictionary<string, string?>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workDir is not null) psi.WorkingDirectory = workDir;
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return new Result(p.ExitCode, stdout, await stderr);
    }
}
