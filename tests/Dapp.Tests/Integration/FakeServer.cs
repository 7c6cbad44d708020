using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dapp.Tests.Integration.Registry;

namespace Dapp.Tests.Integration;

/// <summary>
/// A bad server on a loopback port, for the probes: one that answers every request with the same HTTP answer (an HTML
/// page, a registry challenge naming a hostile realm), one that answers bytes that are not HTTP, or one that accepts
/// connections and never answers. It records the requests it read.
/// </summary>
public sealed class FakeServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, byte[]?> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentBag<TcpClient> _held = [];

    private readonly bool _holdAfterAnswer;

    private FakeServer(Func<string, byte[]?> answer, bool holdAfterAnswer = false)
    {
        _answer = answer;
        _holdAfterAnswer = holdAfterAnswer;
        _listener.Start();
        _loop = Task.Run(() => LoopbackServer.AcceptAsync(_listener, HandleAsync, _stop.Token));
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Host => $"127.0.0.1:{Port}";
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Every request gets this status, headers and body.</summary>
    public static FakeServer Http(int status, string contentType, string body, params string[] headers) =>
        new(_ => Answer(status, contentType, Encoding.UTF8.GetBytes(body), headers));

    /// <summary>
    /// Each request gets the JSON answer <paramref name="route"/> gives for its request line (status, body), or none at
    /// all for null; every answer carries <paramref name="headers"/> (an engine's, <see cref="Unit.EngineHeaders"/>).
    /// </summary>
    public static FakeServer Json(Func<string, (int Status, string Body)?> route, params string[] headers) =>
        new(head => route(head[..head.IndexOf('\r')]) is { } answer ? Answer(answer.Status, "application/json", Encoding.UTF8.GetBytes(answer.Body), headers) : null);

    /// <summary>
    /// Each request gets the answer <paramref name="head"/> gives for its request line; one without <c>Connection: close</c>
    /// is followed by nothing more, the connection held open (a stream that never ends); none at all for null.
    /// </summary>
    public static FakeServer HeadThenSilence(Func<string, string?> head) =>
        new(request => head(request[..request.IndexOf('\r')]) is { } answer ? Encoding.ASCII.GetBytes(answer) : null, holdAfterAnswer: true);

    /// <summary>Every request gets 200 and these bytes (a download).</summary>
    public static FakeServer File(string contentType, byte[] body) => new(_ => Answer(200, contentType, body, []));

    private static byte[] Answer(int status, string contentType, byte[] body, string[] headers) =>
        [.. Encoding.UTF8.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n"
            + string.Concat(headers.Select(h => h + "\r\n")) + "Connection: close\r\n\r\n"), .. body];

    /// <summary>Bytes that are not HTTP at all (a wrong port: an SSH or database server).</summary>
    public static FakeServer Garbage() => new(_ => Encoding.ASCII.GetBytes("SSH-2.0-OpenSSH_9.2\r\n\u0001\u0002\u0003garbage\r\n\r\n"));

    /// <summary>Accepts connections and never answers.</summary>
    public static FakeServer Silent() => new(_ => null);

    private async Task HandleAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            var head = new StringBuilder();
            var buffer = new byte[8192];
            while (!head.ToString().Contains("\r\n\r\n"))
            {
                var read = await stream.ReadAsync(buffer, _stop.Token);
                if (read == 0) break;
                head.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }
            Requests.Enqueue(head.ToString());
            var answer = _answer(head.ToString());
            if (answer is null)
            {
                _held.Add(client);
                return;
            }
            await stream.WriteAsync(answer, _stop.Token);
            if (_holdAfterAnswer && !Encoding.ASCII.GetString(answer).Contains("\r\nConnection: close\r\n", StringComparison.OrdinalIgnoreCase))
            {
                _held.Add(client);
                return;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _loop;
        foreach (var client in _held) client.Dispose();
    }
}
