using System.Diagnostics;

namespace Dapp.Registry.Remote.Handlers;

/// <summary>One line per request sent (method, URL without query, status or failure, time) for --verbose; never a header.</summary>
internal sealed class LoggingHandler(Action<string> log, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var what = $"{request.Method} {request.RequestUri?.GetLeftPart(UriPartial.Path)}";
        try
        {
            var response = await base.SendAsync(request, ct);
            log($"registry: {what} -> {(int)response.StatusCode} ({clock.ElapsedMilliseconds} ms)");
            return response;
        }
        catch (Exception e)
        {
            log($"registry: {what} -> {e.GetType().Name}: {e.Message} ({clock.ElapsedMilliseconds} ms)");
            throw;
        }
    }
}
