namespace PgIg.Config;

/// <summary>A config problem, reported as file:line:column plus the field and the fix.</summary>
public sealed class ConfigException(string message) : Exception(message);
