using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace PgIg.Util;

/// <summary>
/// Deterministic seeds derived from named parts, so every random draw is reproducible and does not
/// depend on chunking, shard layout or thread order.
/// </summary>
public static class Seeds
{
    public static long Derive(params object[] parts)
    {
        var text = string.Join("\u001f", parts.Select(p => Convert.ToString(p, System.Globalization.CultureInfo.InvariantCulture)));
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return BitConverter.ToInt64(hash, 0) & long.MaxValue;
    }

    public static Generator Generator(params object[] parts) => new Generator((ulong)Derive(parts));
}
