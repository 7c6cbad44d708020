using System.Net;

namespace Dapp.Registry.Remote.Handlers;

/// <summary>Request content read from a source opened at an offset each time it is sent, so a retried request resends it.</summary>
internal sealed class ReopeningContent(Func<long, CancellationToken, Task<Stream>> openAt, long offset, long length, IProgress<long>? progress) : HttpContent
{
    /// <summary>Called after each piece sent: what the request's timeout counts from (<see cref="Handlers.TimeoutHandler"/>).</summary>
    public Action? Sent { get; set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct)
    {
        await using var source = await openAt(offset, ct);
        var buffer = new byte[128 * 1024];
        long left = length;
        while (left > 0)
        {
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct);
            if (read == 0) throw new IOException($"the content ended {left} bytes early");
            await stream.WriteAsync(buffer.AsMemory(0, read), ct);
            left -= read;
            progress?.Report(read);
            Sent?.Invoke();
        }
    }

    protected override bool TryComputeLength(out long computed)
    {
        computed = length;
        return true;
    }
}
