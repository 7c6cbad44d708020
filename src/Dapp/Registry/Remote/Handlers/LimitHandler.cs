using System.Collections.Concurrent;
using System.Net;

namespace Dapp.Registry.Remote.Handlers;

/// <summary>
/// At most N requests at a time per registry. A request holds its place until its answer is disposed, so a streamed
/// blob download counts for as long as it streams; waits between retries hold no place.
/// </summary>
internal sealed class LimitHandler(int perRegistry, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _limits = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var registry = request.Options.TryGetValue(RegistryRequest.Registry, out var name) ? name : request.RequestUri!.Authority;
        var limit = _limits.GetOrAdd(registry, _ => new SemaphoreSlim(Math.Max(1, perRegistry)));
        await limit.WaitAsync(ct);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, ct);
        }
        catch
        {
            limit.Release();
            throw;
        }
        response.Content = new ReleasingContent(response.Content, limit);
        return response;
    }

    /// <summary>The answer's content, unchanged, that gives the registry's place back when disposed.</summary>
    private sealed class ReleasingContent : HttpContent
    {
        private readonly HttpContent _inner;
        private SemaphoreSlim? _limit;

        public ReleasingContent(HttpContent inner, SemaphoreSlim limit)
        {
            _inner = inner;
            _limit = limit;
            foreach (var header in inner.Headers) Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => _inner.CopyToAsync(stream);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct) => _inner.CopyToAsync(stream, ct);

        protected override Task<Stream> CreateContentReadStreamAsync() => _inner.ReadAsStreamAsync();

        protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken ct) => _inner.ReadAsStreamAsync(ct);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                Interlocked.Exchange(ref _limit, null)?.Release();
            }
            base.Dispose(disposing);
        }
    }
}
