using System.Net;

namespace Dapp.Registry.Model;

/// <summary>One error as the registry returned it: <c>{"code": "MANIFEST_UNKNOWN", "message": "…"}</c>.</summary>
public sealed record RegistryError(RegistryErrorCode Code, string WireCode, string? Message);

/// <summary>A registry refused or failed a request: the first error's code, every error the registry returned, the HTTP status.</summary>
public sealed class RegistryException : DappException
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
    /// The registry will not do this, by policy or permission (a read-only token, immutable tags, deletes disabled,
    /// a method it does not serve): asking again does not help, only another way or none.
    /// </summary>
    public bool IsRefusal => Code is RegistryErrorCode.Denied or RegistryErrorCode.Unauthorized or RegistryErrorCode.Unsupported
            or RegistryErrorCode.TagInvalid or RegistryErrorCode.ManifestInvalid or RegistryErrorCode.NameInvalid
        || Status is HttpStatusCode.Forbidden or HttpStatusCode.MethodNotAllowed or HttpStatusCode.Conflict;
}
