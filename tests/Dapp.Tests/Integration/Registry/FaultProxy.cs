using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dapp.Tests.Integration.Registry;

public sealed record ProxyRequest(int Number, string Method, string Path, IReadOnlyDictionary<string, string> Headers);

public abstract record Fault;

/// <summary>Answer with this status (and Retry-After seconds, and a JSON body) instead of forwarding.</summary>
public sealed record StatusFault(int Status, int? RetryAfterSeconds = null, string? JsonBody = null) : Fault;

/// <summary>Forward, but reset the connection after this many bytes of the response body (0: before any of the response).</summary>
public sealed record ResetFault(long AfterBodyBytes) : Fault;

/// <summary>
/// Stall: with <paramref name="AfterBodyBytes"/> null, read the request and send nothing at all (not even forward it);
/// else forward, pass on the response's head and that many bytes of its body, then send nothing more. The
/// connection stays open, silent, until the proxy is disposed.
/// </summary>
public sealed record StallFault(long? AfterBodyBytes) : Fault;

/// <summary>Forward, but only once <paramref name="Until"/> completes: orders a request after others, whatever the timing.</summary>
public sealed record HoldFault(Task Until) : Fault;

/// <summary>
/// A loopback HTTP/1.1 proxy in front of a registry that injects faults chosen per request by <see cref="Rule"/>.
/// It forwards the Host header as sent, so the registry's upload locations point back at the proxy, and forces
/// one request per connection so each request can be seen and faulted on its own.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();
    private int _number;
    private int _active;
    private int _maxActive;

    public FaultProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener.Start();
        _loop = Task.Run(() => LoopbackServer.AcceptAsync(_listener, HandleAsync, _stop.Token));
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Host => $"127.0.0.1:{Port}";
    public Func<ProxyRequest, Fault?> Rule { get; set; } = _ => null;
    public ConcurrentQueue<ProxyRequest> Seen { get; } = new();

    /// <summary>Called once a forwarded request's whole response has been passed on to the client.</summary>
    public Action<ProxyRequest>? Answered { get; set; }
    public int MaxConcurrentRequests => Volatile.Read(ref _maxActive);

    /// <summary>Requests sent on to the registry whose answer has not been passed back yet (a killed client's too: they still land).</summary>
    public int Forwarding => Volatile.Read(ref _forwarding);

    private int _forwarding;

    private async Task HandleAsync(TcpClient client)
    {
        using var connection = client;
        var stream = client.GetStream();
        var (head, rest) = await ReadHeadAsync(stream);
        if (head is null) return;
        var lines = head.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        var headers = lines.Skip(1).Where(l => l.Contains(':'))
            .GroupBy(l => l[..l.IndexOf(':')].Trim(), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First()[(g.First().IndexOf(':') + 1)..].Trim(), StringComparer.OrdinalIgnoreCase);
        var request = new ProxyRequest(Interlocked.Increment(ref _number), requestLine[0], requestLine[1], headers);
        Seen.Enqueue(request);
        var active = Interlocked.Increment(ref _active);
        InterlockedMax(ref _maxActive, active);
        var finished = 0;
        void Finish()
        {
            if (Interlocked.Exchange(ref finished, 1) == 0) Interlocked.Decrement(ref _active);
        }
        try
        {
            var fault = Rule(request);
            if (fault is StatusFault status)
            {
                await DrainBodyAsync(stream, headers, rest.Length);
                var retryAfter = status.RetryAfterSeconds is { } seconds ? $"Retry-After: {seconds}\r\n" : "";
                var body = Encoding.UTF8.GetBytes(status.JsonBody ?? "");
                var contentType = status.JsonBody is null ? "" : "Content-Type: application/json\r\n";
                var response = $"HTTP/1.1 {status.Status} Injected\r\nContent-Length: {body.Length}\r\n{contentType}Connection: close\r\n{retryAfter}\r\n";
                Finish();
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
                await stream.WriteAsync(body);
                return;
            }
            if (fault is HoldFault hold) await hold.Until;
            if (fault is StallFault { AfterBodyBytes: null })
            {
                await Task.Delay(Timeout.Infinite, _stop.Token).ContinueWith(_ => { });
                return;
            }
            Interlocked.Increment(ref _forwarding);
            try
            {
                await ForwardAsync(stream, client, request, lines, rest, fault, Finish);
            }
            finally
            {
                Interlocked.Decrement(ref _forwarding);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            Finish();
        }
    }

    private async Task ForwardAsync(NetworkStream stream, TcpClient client, ProxyRequest request, string[] lines, byte[] rest, Fault? fault, Action finish)
    {
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort);
        var up = upstream.GetStream();
        var forwarded = string.Join("\r\n", lines.Where(l => !l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase) && l.Length > 0))
            + "\r\nConnection: close\r\n\r\n";
        await up.WriteAsync(Encoding.ASCII.GetBytes(forwarded));
        await up.WriteAsync(rest);
        _ = stream.CopyToAsync(up).ContinueWith(_ => { });
        var cut = fault switch
        {
            ResetFault r => new Cut(r.AfterBodyBytes, () => Task.FromResult(0)),
            StallFault { AfterBodyBytes: { } after } => new Cut(after, () => Task.Delay(Timeout.Infinite, _stop.Token).ContinueWith(_ => 0)),
            _ => null,
        };
        await CopyResponseAsync(up, stream, client, cut, request.Method == "HEAD", finish);
        Answered?.Invoke(request);
    }

    /// <summary>Where a response is cut (after that many body bytes), and what then: a reset, or a silence.</summary>
    private sealed record Cut(long AfterBodyBytes, Func<Task<int>> Silence);

    /// <summary>
    /// Forwards the response; <paramref name="finished"/> is called just before its last bytes are written, so a
    /// request counts as active exactly while the client still waits for it.
    /// </summary>
    private static async Task CopyResponseAsync(Stream from, Stream to, TcpClient client, Cut? reset, bool isHead, Action finished)
    {
        long expected = -1;
        var buffer = new byte[64 * 1024];
        var headSeen = new List<byte>();
        long body = -1;
        while (true)
        {
            var read = await from.ReadAsync(buffer);
            if (read == 0) return;
            var chunk = buffer.AsMemory(0, read);
            if (body < 0)
            {
                headSeen.AddRange(chunk.ToArray());
                var end = IndexOfHeadEnd(headSeen);
                if (end < 0) { await to.WriteAsync(chunk); continue; }
                body = headSeen.Count - end;
                if (reset is { AfterBodyBytes: 0 })
                {
                    // The upstream acted on the request, but the client hears nothing of it.
                    await reset.Silence();
                    Reset(client);
                    return;
                }
                expected = isHead ? 0 : ContentLength(headSeen.GetRange(0, end));
                if (expected >= 0 && body >= expected) finished();
                if (reset is not null && body > reset.AfterBodyBytes)
                {
                    var keep = read - (int)(body - reset.AfterBodyBytes);
                    await to.WriteAsync(chunk[..keep]);
                    await reset.Silence();
                    Reset(client);
                    return;
                }
                await to.WriteAsync(chunk);
                continue;
            }
            if (reset is not null && body + read > reset.AfterBodyBytes)
            {
                await to.WriteAsync(chunk[..(int)(reset.AfterBodyBytes - body)]);
                await reset.Silence();
                Reset(client);
                return;
            }
            body += read;
            if (expected >= 0 && body >= expected) finished();
            await to.WriteAsync(chunk);
        }
    }

    private static long ContentLength(List<byte> head)
    {
        foreach (var line in Encoding.ASCII.GetString(head.ToArray()).Split("\r\n"))
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase) && long.TryParse(line[15..].Trim(), out var length))
                return length;
        return -1;
    }

    private static void Reset(TcpClient client)
    {
        client.Client.LingerState = new LingerOption(true, 0);
        client.Client.Close();
    }

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (int i = 3; i < bytes.Count; i++)
            if (bytes[i - 3] == '\r' && bytes[i - 2] == '\n' && bytes[i - 1] == '\r' && bytes[i] == '\n') return i + 1;
        return -1;
    }

    private static async Task<(string? Head, byte[] Remainder)> ReadHeadAsync(Stream stream)
    {
        var bytes = new List<byte>();
        var buffer = new byte[8192];
        while (true)
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0) return (null, []);
            // A TLS handshake (the engine tries https first): close at once, as a plain-HTTP registry does.
            if (bytes.Count == 0 && buffer[0] == 0x16) return (null, []);
            bytes.AddRange(buffer.AsSpan(0, read).ToArray());
            var end = IndexOfHeadEnd(bytes);
            if (end >= 0) return (Encoding.ASCII.GetString(bytes.GetRange(0, end - 4).ToArray()), bytes.GetRange(end, bytes.Count - end).ToArray());
        }
    }

    private static async Task DrainBodyAsync(Stream stream, IReadOnlyDictionary<string, string> headers, int alreadyRead)
    {
        if (!headers.TryGetValue("Content-Length", out var value) || !long.TryParse(value, out var length)) return;
        var left = length - alreadyRead;
        var buffer = new byte[64 * 1024];
        while (left > 0)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)));
            if (read == 0) return;
            left -= read;
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _loop;
    }
}
