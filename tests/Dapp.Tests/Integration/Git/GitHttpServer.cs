using System.Diagnostics;
using System.Net;
using System.Text;
using Dapp.Tests.Integration.Registry;

namespace Dapp.Tests.Integration.Git;

/// <summary>
/// git's smart-HTTP server (<c>git http-backend</c>, run as a CGI per request) behind Basic auth, on a free loopback
/// port: serves the bare repositories under a root directory; with <c>tls</c>, over HTTPS (<see cref="TlsFront"/>).
/// </summary>
public sealed class GitHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly string _root;
    private readonly string _user;
    private readonly string _password;
    private readonly TlsFront? _tls;

    public GitHttpServer(string root, string user, string password, bool tls = false)
    {
        _root = root;
        _user = user;
        _password = password;
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
        if (tls) _tls = new TlsFront(Port, root);
    }

    /// <summary>The plain HTTP port (the HTTPS one is <see cref="Url"/>'s).</summary>
    public int Port { get; }

    /// <summary>The certificate authority clients trust for HTTPS (null over plain HTTP).</summary>
    public string? CaFile => _tls?.CaFile;

    /// <summary>The scheme, user info and address, without a path: https://user:password@127.0.0.1:PORT.</summary>
    public string Origin(string? credentials = null) => _tls is null
        ? $"http://{(credentials is null ? "" : credentials + "@")}127.0.0.1:{Port}"
        : $"https://{(credentials is null ? "" : credentials + "@")}127.0.0.1:{_tls.Port}";

    public string Url(string repository, string? credentials = null) => $"{Origin(credentials)}/{repository}";

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_user}:{_password}"));
            if (context.Request.Headers["Authorization"] != expected)
            {
                response.StatusCode = 401;
                response.AddHeader("WWW-Authenticate", "Basic realm=\"git\"");
                response.Close();
                return;
            }
            var start = new ProcessStartInfo("/usr/lib/git-core/git-http-backend")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["GIT_PROJECT_ROOT"] = _root;
            start.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
            start.Environment["REQUEST_METHOD"] = context.Request.HttpMethod;
            start.Environment["PATH_INFO"] = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath);
            start.Environment["QUERY_STRING"] = context.Request.Url.Query.TrimStart('?');
            start.Environment["CONTENT_TYPE"] = context.Request.ContentType ?? "";
            start.Environment["REMOTE_USER"] = _user;
            start.Environment["REMOTE_ADDR"] = "127.0.0.1";
            if (context.Request.Headers["Content-Encoding"] is { } encoding) start.Environment["HTTP_CONTENT_ENCODING"] = encoding;
            if (context.Request.Headers["Git-Protocol"] is { } protocol) start.Environment["GIT_PROTOCOL"] = protocol;
            using var cgi = Process.Start(start)!;
            var errors = cgi.StandardError.ReadToEndAsync();
            var body = context.Request.InputStream.CopyToAsync(cgi.StandardInput.BaseStream).ContinueWith(_ => cgi.StandardInput.Close());
            var output = cgi.StandardOutput.BaseStream;
            // CGI headers, then the body.
            var head = new List<byte>();
            while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n')
                && !(head.Count >= 2 && head[^2] == '\n' && head[^1] == '\n'))
            {
                var b = output.ReadByte();
                if (b < 0) break;
                head.Add((byte)b);
            }
            foreach (var line in Encoding.ASCII.GetString(head.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var colon = line.IndexOf(':');
                if (colon < 0) continue;
                var (name, value) = (line[..colon].Trim(), line[(colon + 1)..].Trim());
                if (name.Equals("Status", StringComparison.OrdinalIgnoreCase)) response.StatusCode = int.Parse(value.Split(' ')[0]);
                else if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) response.ContentType = value;
                else if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) response.AddHeader(name, value);
            }
            response.SendChunked = true;
            await output.CopyToAsync(response.OutputStream);
            await body;
            await cgi.WaitForExitAsync();
            await errors;
            response.Close();
        }
        catch (Exception e) when (e is IOException or HttpListenerException or InvalidOperationException)
        {
            try { response.Abort(); } catch (ObjectDisposedException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_tls is not null) await _tls.DisposeAsync();
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
