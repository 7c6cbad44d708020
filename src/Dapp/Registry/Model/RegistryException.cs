using System.Net;

namespace Dapp.Registry.Model;

/// <summary>One error as the registry returned it: <c>{"code": "MANIFEST_UNKNOWN", "message": "…"}</c>.</summary>
internal sealed record RegistryError(RegistryErrorCode Code, string WireCode, string? Message);

/// <summary>
/// A registry refused or failed a request: the first error's code, every error the registry returned, the HTTP status.
/// Made by the factories below, which also word the message.
/// </summary>
internal sealed class RegistryException : DappException
{
    public RegistryException(string message, RegistryErrorCode code, HttpStatusCode? status, Exception? inner = null,
        IReadOnlyList<RegistryError>? errors = null)
        : base(message, inner!)
    {
        Code = code;
        Status = status;
        Errors = errors ?? [];
    }

    public RegistryErrorCode Code { get; }
    public HttpStatusCode? Status { get; }

    /// <summary>Every error of the registry's answer, in its order (empty when it sent none).</summary>
    public IReadOnlyList<RegistryError> Errors { get; }

    public bool IsNotFound => Code is RegistryErrorCode.NameUnknown or RegistryErrorCode.ManifestUnknown or RegistryErrorCode.BlobUnknown
        or RegistryErrorCode.NotFound;

    /// <summary>
    /// Transient: no answer, a busy or failing server (408, 429, 5xx), an upload session the registry lost or refuses
    /// to go on with (a new session mends it), a manifest naming a blob another pusher is linking that instant.
    /// Everything else is permanent: unknown, invalid, denied, or refused by the registry's policy (immutable tags,
    /// deletes disabled, a read-only token, a method it does not serve), where only another way helps, or none.
    /// </summary>
    public override bool IsTransient =>
        IsTransientCode(Code) || Errors.Any(e => IsTransientCode(e.Code))
        || Status is { } status && (IsTransientStatus(status) || status == HttpStatusCode.RequestedRangeNotSatisfiable);

    /// <summary>The statuses worth the same request again, by the transport's retries too.</summary>
    public static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static bool IsTransientCode(RegistryErrorCode code) => code is RegistryErrorCode.Unreachable or RegistryErrorCode.TooManyRequests
        or RegistryErrorCode.BlobUploadInvalid or RegistryErrorCode.BlobUploadUnknown or RegistryErrorCode.RangeInvalid
        or RegistryErrorCode.ManifestBlobUnknown;

    /// <summary>
    /// The registry's error answer to <paramref name="what"/>: its errors' messages and codes, else the status; a used-up
    /// quota says when it renews and what helps; a transient status still there after retries says how many.
    /// </summary>
    public static RegistryException Answered(string what, HttpStatusCode status, string? reason, IReadOnlyList<RegistryError> errors,
        TimeSpan? quotaReset, int retries)
    {
        var code = errors.Count > 0 ? errors[0].Code : status switch
        {
            HttpStatusCode.NotFound => RegistryErrorCode.NotFound,
            HttpStatusCode.Unauthorized => RegistryErrorCode.Unauthorized,
            HttpStatusCode.Forbidden => RegistryErrorCode.Denied,
            HttpStatusCode.TooManyRequests => RegistryErrorCode.TooManyRequests,
            _ => RegistryErrorCode.Unknown,
        };
        var text = errors.Count > 0
            ? string.Join("; ", errors.Select(e => $"{e.Message ?? e.WireCode.ToLowerInvariant().Replace('_', ' ')} ({e.WireCode})"))
            : $"{(int)status} {reason ?? status.ToString()}{(code == RegistryErrorCode.Unknown ? "" : $" ({code.WireName()})")}";
        if (status == HttpStatusCode.TooManyRequests)
            text = $"the registry's request quota is used up ({text}; "
                + $"{(quotaReset is { } reset ? $"it asks to wait {reset.TotalSeconds:0} s" : "it says not when it renews")}): "
                + "Docker Hub counts each manifest GET as a pull; log in (a higher quota), or wait and run again";
        else if (IsTransientStatus(status) && retries > 0)
            text += $" (still, after {retries} retries)";
        return new RegistryException($"{what}: {text}", code, status, errors: errors);
    }

    /// <summary>No answer in time, however often tried.</summary>
    public static RegistryException NoAnswer(string what, string registry, TimeoutException e, int tries) =>
        new($"{what}: the registry {registry} did not answer ({e.Message}, {tries} time(s)): is it a Docker registry, and is it up?",
            RegistryErrorCode.Unreachable, null, e);

    /// <summary>The connection failed (refused, reset, DNS), after the retries.</summary>
    public static RegistryException Unreachable(string what, string registry, Exception e, int retries) =>
        new($"{what}: cannot reach the registry {registry} ({e.GetBaseException().Message}; gave up after {retries} retries)",
            RegistryErrorCode.Unreachable, null, e);

    /// <summary>The server answered something that is not HTTP: a wrong host or port.</summary>
    public static RegistryException NotHttp(string what, string server, Exception e) =>
        new($"{what}: {server} does not look like a Docker registry: it answered something that is not HTTP. Check the host and port of REPO.",
            RegistryErrorCode.NotARegistry, null, e);

    /// <summary>A token server or realm could not be reached.</summary>
    public static RegistryException TokenServerUnreachable(string server, Exception e) =>
        new($"Cannot reach {server}: {e.Message}", RegistryErrorCode.Unreachable, null, e);

    /// <summary>The registry or its token server will not take the credentials (or wants some and none were found).</summary>
    public static RegistryException Unauthorized(string problem, HttpStatusCode status = HttpStatusCode.Unauthorized) =>
        new($"unauthorized: {problem}", RegistryErrorCode.Unauthorized, status);

    /// <summary>What the registry sent fails dapp's own checks (a digest, a size, a shape): <c>WHAT: PROBLEM</c>.</summary>
    public static RegistryException Invalid(string what, string problem, RegistryErrorCode code, HttpStatusCode? status = null) =>
        new($"{what}: {problem}", code, status);
}
