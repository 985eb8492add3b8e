return await PgIg.Cli.PgIgCli.RunAsync(args);
