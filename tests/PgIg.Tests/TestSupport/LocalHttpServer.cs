using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PgIg.Tests.TestSupport;

/// <summary>A tiny HTTP/1.1 server on 127.0.0.1 for download tests. Built on TcpListener so a test can make it
/// misbehave on purpose (drop the connection mid-body, ignore Range). Every response closes the connection.</summary>
public sealed class LocalHttpServer : IDisposable
{
    public sealed record RecordedRequest(string Method, string Path, string? Range);

    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource _stop = new();
    readonly Dictionary<string, Func<RecordedRequest, int, NetworkStream, Task>> _routes = new(StringComparer.Ordinal);
    readonly List<RecordedRequest> _requests = [];
    readonly object _lock = new();
    readonly Task _acceptLoop;

    public LocalHttpServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    /// <summary>A URL on a port that was free a moment ago: connecting to it is refused.</summary>
    public static string UnreachableUrl(string path)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return $"http://127.0.0.1:{port}{path}";
    }

    /// <summary>Serves <paramref name="content"/> with Range support (206, 416 past the end).</summary>
    public void ServeFile(string path, byte[] content) =>
        Map(path, (req, _, stream) => SendFileAsync(stream, content, req.Range, honourRange: true, cutAt: null));

    /// <summary>Always answers 200 with the whole file, as servers without range support do.</summary>
    public void ServeFileIgnoringRange(string path, byte[] content) =>
        Map(path, (req, _, stream) => SendFileAsync(stream, content, req.Range, honourRange: false, cutAt: null));

    /// <summary>The first <paramref name="breakingRequests"/> requests announce the full length but the connection is
    /// closed once absolute offset <paramref name="breakAt"/> is reached; later requests are served normally.</summary>
    public void ServeBreakingFile(string path, byte[] content, long breakAt, int breakingRequests = 1, bool honourRange = true) =>
        Map(path, (req, index, stream) =>
            SendFileAsync(stream, content, req.Range, honourRange, cutAt: index < breakingRequests ? breakAt : null));

    public void ServeStatus(string path, HttpStatusCode status) =>
        Map(path, (_, _, stream) => WriteHeadAsync(stream, (int)status, ReasonPhrase(status), 0, []));

    /// <summary>"NotFound" → "Not Found", close enough to the standard phrases for test assertions.</summary>
    static string ReasonPhrase(HttpStatusCode status) =>
        string.Concat(status.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? " " + c : c.ToString()));

    public IReadOnlyList<RecordedRequest> RequestsTo(string path)
    {
        lock (_lock) return _requests.Where(r => r.Path == path).ToList();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // the loop ends by the listener being stopped
        }
        _stop.Dispose();
    }

    void Map(string path, Func<RecordedRequest, int, NetworkStream, Task> handler)
    {
        lock (_lock) _routes[path] = handler;
    }

    async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                (string method, string target, Dictionary<string, string> headers) = await ReadRequestHeadAsync(stream);
                var request = new RecordedRequest(method, target, headers.GetValueOrDefault("range"));
                Func<RecordedRequest, int, NetworkStream, Task>? handler;
                int index;
                lock (_lock)
                {
                    index = _requests.Count(r => r.Path == target);
                    _requests.Add(request);
                    _routes.TryGetValue(target, out handler);
                }
                if (handler is null) await WriteHeadAsync(stream, 404, "Not Found", 0, []);
                else await handler(request, index, stream);
                await stream.FlushAsync();
            }
            catch (IOException)
            {
                // the client went away; nothing to answer
            }
        }
    }

    static async Task<(string Method, string Target, Dictionary<string, string> Headers)> ReadRequestHeadAsync(NetworkStream stream)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0) throw new IOException("client closed before the request ended");
            if (one[0] == '\n')
            {
                string text = line.ToString().TrimEnd('\r');
                line.Clear();
                if (text.Length == 0) break;
                lines.Add(text);
            }
            else line.Append((char)one[0]);
        }
        string[] requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string header in lines.Skip(1))
        {
            int colon = header.IndexOf(':');
            if (colon > 0) headers[header[..colon].Trim()] = header[(colon + 1)..].Trim();
        }
        return (requestLine[0], requestLine[1], headers);
    }

    static async Task SendFileAsync(NetworkStream stream, byte[] content, string? range, bool honourRange, long? cutAt)
    {
        long start = 0;
        if (honourRange && range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], CultureInfo.InvariantCulture);
            if (start >= content.Length)
            {
                await WriteHeadAsync(stream, 416, "Range Not Satisfiable", 0, [$"Content-Range: bytes */{content.Length}"]);
                return;
            }
        }
        long length = content.Length - start;
        if (start > 0)
            await WriteHeadAsync(stream, 206, "Partial Content", length, [$"Content-Range: bytes {start}-{content.Length - 1}/{content.Length}"]);
        else
            await WriteHeadAsync(stream, 200, "OK", length, ["Accept-Ranges: bytes"]);

        long end = cutAt is long cut ? Math.Clamp(cut, start, content.Length) : content.Length;
        await stream.WriteAsync(content.AsMemory((int)start, (int)(end - start)));
        // For a cut, returning closes the socket before Content-Length bytes were sent.
    }

    static async Task WriteHeadAsync(NetworkStream stream, int status, string reason, long contentLength, string[] extraHeaders)
    {
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reason}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {contentLength}\r\n")
            .Append("Content-Type: application/octet-stream\r\n")
            .Append("Connection: close\r\n");
        foreach (string h in extraHeaders) head.Append(h).Append("\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
    }
}
