namespace PgIg.Pipeline;

/// <summary>A directory the run will write to, checked up front: created if missing, and a probe file written and removed.</summary>
public static class WritableDirectory
{
    /// <param name="field">The config field or option that names the directory, for the message.</param>
    public static void Ensure(string dir, string field)
    {
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".pgig-write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"{Path.GetFullPath(dir)} is not writable ({e.Message.TrimEnd('.')}); set {field} to a directory you can write to");
        }
    }
}
