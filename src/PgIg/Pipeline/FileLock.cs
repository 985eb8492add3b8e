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

    public void Dispose() => _stream.Dispose();
}
