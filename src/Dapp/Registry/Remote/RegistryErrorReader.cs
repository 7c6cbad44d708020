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
        var code = errors.Count > 0 ? errors[0].Code : response.StatusCode switch
        {
            HttpStatusCode.NotFound => RegistryErrorCode.NotFound,
            HttpStatusCode.Unauthorized => RegistryErrorCode.Unauthorized,
            HttpStatusCode.Forbidden => RegistryErrorCode.Denied,
            HttpStatusCode.TooManyRequests => RegistryErrorCode.TooManyRequests,
            _ => RegistryErrorCode.Unknown,
        };
        var text = errors.Count > 0
            ? string.Join("; ", errors.Select(e => $"{e.Message ?? e.WireCode.ToLowerInvariant().Replace('_', ' ')} ({e.WireCode})"))
            : $"{(int)response.StatusCode} {response.ReasonPhrase ?? response.StatusCode.ToString()}{(code == RegistryErrorCode.Unknown ? "" : $" ({code.WireName()})")}";
        var budget = response.RequestMessage?.Options.TryGetValue(Handlers.RegistryRequest.Budget, out var given) == true ? given : null;
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
            text = $"the registry's request quota is used up ({text}; "
                + $"{(Handlers.RetryHandler.RetryAfter(response, (budget?.Policy.Time ?? TimeProvider.System).GetUtcNow()) is { } reset ? $"it asks to wait {reset.TotalSeconds:0} s" : "it says not when it renews")}): "
                + "Docker Hub counts each manifest GET as a pull; log in (a higher quota), or wait and run again";
        // A transient status that is still there was retried as long as the operation's budget allowed: say so.
        else if (Handlers.RetryHandler.IsTransientStatus(response.StatusCode) && budget is { Retries: > 0 })
            text += $" (still, after {budget.Retries} retries)";
        return new RegistryException($"{what}: {text}", code, response.StatusCode, errors: errors);
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
