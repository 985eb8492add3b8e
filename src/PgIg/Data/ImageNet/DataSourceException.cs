namespace PgIg.Data.ImageNet;

/// <summary>The data on disk is missing, in an unknown layout, or inconsistent; the message says what to fix.</summary>
public sealed class DataSourceException : Exception, PgIg.Pipeline.IInputProblem
{
    public DataSourceException(string message) : base(message) { }
    public DataSourceException(string message, Exception inner) : base(message, inner) { }
}
