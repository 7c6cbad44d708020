namespace Dapp.Registry.Remote.Handlers;

/// <summary>What the handlers of the transport need to know about a request, carried in its options.</summary>
internal static class RegistryRequest
{
    /// <summary>The registry's name (docker.io, 127.0.0.1:5000): challenges, tokens and limits are kept per registry.</summary>
    public static readonly HttpRequestOptionsKey<string> Registry = new("dapp.registry");

    /// <summary>The token scopes the request needs (repository:NAME:pull,push).</summary>
    public static readonly HttpRequestOptionsKey<IReadOnlyList<string>> Scopes = new("dapp.scopes");

    /// <summary>The retry budget of the operation the request belongs to; without one, the request gets its own.</summary>
    public static readonly HttpRequestOptionsKey<RetryBudget> Budget = new("dapp.budget");

    /// <summary>How long to wait for the answer's headers, when not the default (uploads take longer).</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> Timeout = new("dapp.timeout");

    public static HttpRequestMessage With<T>(this HttpRequestMessage request, HttpRequestOptionsKey<T> key, T value)
    {
        request.Options.Set(key, value);
        return request;
    }
}
