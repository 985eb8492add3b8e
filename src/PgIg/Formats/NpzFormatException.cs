namespace PgIg.Formats;

/// <summary>An .npz file that cannot be used as is: missing key, wrong shape, unsupported member, or a damaged
/// archive. Every member-level <see cref="InvalidDataException"/> is wrapped in this, so one catch covers a file.</summary>
public sealed class NpzFormatException : IOException
{
    public NpzFormatException(string message) : base(message) { }

    public NpzFormatException(string message, Exception inner) : base(message, inner) { }
}
