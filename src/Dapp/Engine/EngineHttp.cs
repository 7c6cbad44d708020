using System.Net.Sockets;

namespace Dapp.Engine;

/// <summary>
/// Plain HTTP on the engine's endpoint (a unix socket, or tcp:// without TLS), for what Docker.DotNet does not expose:
/// the ping's headers (<see cref="EngineProduct"/>) and Podman's own API (<see cref="Libpod"/>).
/// </summary>
internal static class EngineHttp
{
    public static HttpClient Client(Uri endpoint)
    {
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) };
        Uri baseAddress;
        if (endpoint.Scheme == "unix")
        {
            var socket = endpoint.AbsolutePath;
            handler.ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            };
            baseAddress = new Uri("http://engine/");
        }
        else baseAddress = new UriBuilder("http", endpoint.Host, endpoint.Port).Uri;
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }
}
