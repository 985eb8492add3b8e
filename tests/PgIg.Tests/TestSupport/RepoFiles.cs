namespace PgIg.Tests.TestSupport;

/// <summary>Files of the repository (configs, scripts), found above the test binaries.</summary>
public static class RepoFiles
{
    public static string Path(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "PgIg.sln"))) return System.IO.Path.Combine(d.FullName, relative);
        throw new FileNotFoundException("repository root (PgIg.sln) not found above the test binaries");
    }
}
