using System.Net;
using System.Text;

namespace PgIg.Data.Download;

/// <summary>Why one mirror was given up on; <paramref name="StatusCode"/> is set for HTTP error answers.</summary>
public sealed record MirrorFailure(string Mirror, string Reason, HttpStatusCode? StatusCode = null);

/// <summary>Every mirror of a source failed. The message lists each mirror with its reason.</summary>
public sealed class DownloadException : Exception
{
    public DownloadException(string sourceName, IReadOnlyList<MirrorFailure> failures)
        : base(BuildMessage(sourceName, failures))
    {
        SourceName = sourceName;
        Failures = failures;
    }

    public string SourceName { get; }

    public IReadOnlyList<MirrorFailure> Failures { get; }

    /// <summary>Some mirror answered 401/403: for ImageNet that means the access key is wrong, not that the file is gone.</summary>
    public bool AuthFailed => Failures.Any(f => f.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);

    static string BuildMessage(string sourceName, IReadOnlyList<MirrorFailure> failures)
    {
        var sb = new StringBuilder($"Could not download '{sourceName}': all {failures.Count} mirror(s) failed:");
        foreach (MirrorFailure f in failures) sb.Append("\n  - ").Append(f.Mirror).Append(": ").Append(f.Reason);
        return sb.ToString();
    }
}
