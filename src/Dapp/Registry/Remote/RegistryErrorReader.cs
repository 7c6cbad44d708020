using System.Net;
using System.Text;
using System.Text.Json;
using Dapp.Registry.Model;

namespace Dapp.Registry.Remote;

/// <summary>Turns a registry's error answer into a <see cref="RegistryException"/>, reading at most 64 KiB of it.</summary>
internal static class RegistryErrorReader
{
    public const int MaxErrorBody = 64 << 10;

    public static async Task<RegistryException> ReadAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        var errors = new List<RegistryError>();
        try
        {
            var body = await ReadLimitedAsync(response.Content, MaxErrorBody, ct);
            if (body.Length > 0 && JsonSerializer.Deserialize(body, RegistryJson.Default.RegistryErrors)?.Errors is { } list)
                errors.AddRange(list.Select(e => new RegistryError(RegistryErrorCodes.Parse(e.Code), e.Code ?? "", e.Message)));
        }
        catch (Exception e) when (e is JsonException or IOException or HttpRequestException)
        {
            // Not a registry error body (an HTML page, a proxy's message, a cut answer): the status says enough.
        }
        var budget = response.RequestMessage?.Options.TryGetValue(Handlers.RegistryRequest.Budget, out var given) == true ? given : null;
        var quotaReset = response.StatusCode == HttpStatusCode.TooManyRequests
            ? Handlers.RetryHandler.RetryAfter(response, (budget?.Policy.Time ?? TimeProvider.System).GetUtcNow()) : null;
        return RegistryException.Answered(what, response.StatusCode, response.ReasonPhrase, errors, quotaReset, budget?.Retries ?? 0);
    }

    /// <summary>At most <paramref name="limit"/> bytes of a body: an error or token answer is small, a hostile one need not be.</summary>
    public static async Task<byte[]> ReadLimitedAsync(HttpContent content, int limit, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        var buffer = new byte[limit];
        int total = 0;
        while (total < limit)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total), ct);
            if (read == 0) break;
            total += read;
        }
        return buffer[..total];
    }

    /// <summary>A short, printable excerpt of an unexpected answer.</summary>
    public static string Excerpt(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 80));
        var printable = new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        return printable.Length == 0 ? "an empty body" : $"'{printable}{(body.Length > 80 ? "…" : "")}'";
    }
}
