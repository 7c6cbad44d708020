using System.Net.Sockets;

namespace Dapp.Tests.Integration.Registry;

/// <summary>The accept loop of the test servers on loopback.</summary>
public static class LoopbackServer
{
    /// <summary>Accepts connections until stopped, each handled on a task of its own.</summary>
    public static async Task AcceptAsync(TcpListener listener, Func<TcpClient, Task> handle, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception)
            {
                return;
            }
            _ = Task.Run(() => handle(client));
        }
    }
}
