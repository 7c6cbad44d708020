using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Dapp.Tests.Integration.Git;

/// <summary>
/// TLS in front of a plain HTTP server on loopback, as a reverse proxy terminates it: a certificate authority and a
/// server certificate for 127.0.0.1 made by the test; clients trust the authority through <see cref="CaFile"/>.
/// </summary>
public sealed class TlsFront : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate;
    private readonly int _backendPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public TlsFront(int backendPort, string dir)
    {
        _backendPort = backendPort;
        var certificates = TestCertificates.Make(Path.Combine(dir, "tls"));
        _certificate = certificates.Server;
        CaFile = certificates.CaFile;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    /// <summary>The authority's certificate (PEM), for GIT_SSL_CAINFO.</summary>
    public string CaFile { get; }

    private async Task LoopAsync()
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
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                using var backend = new TcpClient();
                await backend.ConnectAsync(IPAddress.Loopback, _backendPort, _stop.Token);
                var plain = backend.GetStream();
                // Either side closing ends the connection.
                await Task.WhenAny(tls.CopyToAsync(plain, _stop.Token), plain.CopyToAsync(tls, _stop.Token));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
            {
                // A client that refused the certificate, or went away.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _certificate.Dispose();
    }
}
