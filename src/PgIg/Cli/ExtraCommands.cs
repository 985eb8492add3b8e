using System.CommandLine;

namespace PgIg.Cli;

/// <summary>Commands beyond the pipeline stages (bench, export, slurm), registered here to keep PgIgCli small.</summary>
public static class ExtraCommands
{
    public static IEnumerable<Command> Create(CommonOptions common) => [ExportCommand.Create(common), BenchCommand.Create(), SlurmCommand.Create(common)];
}
