namespace PgIg.Pipeline;

/// <summary>
/// An exclusive advisory lock on a file (FileShare.None maps to flock on Unix). The kernel drops it
/// when the process dies, so a killed run never leaves a stale lock behind.
/// </summary>
public sealed class FileLock : IDisposable
{
    readonly FileStream _stream;

    FileLock(FileStream s) => _stream = s;

    public static FileLock Acquire(string path, TimeSpan timeout, Action? onWait = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow + timeout;
        bool told = false;
        while (true)
        {
            try
            {
                return new FileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (!told) { onWait?.Invoke(); told = true; }
                Thread.Sleep(200);
            }
            catch (IOException e)
            {
                throw new IOException($"{path}: another pgig process still holds this lock after {timeout.TotalSeconds:0}s; wait for it to finish or stop it (a dead process releases the lock by itself).", e);
            }
        }
    }

    /// <summary>The lock if nobody holds it right now, else null (no waiting).</summary>
    public static FileLock? TryAcquire(string path)
    {
        try { return new FileLock(new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None)); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>True while another process (or this one) holds the lock at <paramref name="path"/>.</summary>
    public static bool IsHeld(string path)
    {
        if (!File.Exists(path)) return false;
        using var l = TryAcquire(path);
        return l is null;
    }

    public void Dispose() => _stream.Dispose();
}
