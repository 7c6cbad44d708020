using System.Net;

namespace Dapp.Registry.Remote;

/// <summary>A registry refused or failed a request; <see cref="Code"/> is its error code (NAME_UNKNOWN, UNAUTHORIZED, …).</summary>
public sealed class RegistryException : DappException
{
    public RegistryException(string message, string? code, HttpStatusCode? status, Exception? inner = null)
        : base(message, inner!)
    {
        Code = code;
        Status = status;
    }

    public string? Code { get; }
    public HttpStatusCode? Status { get; }

    public bool IsNotFound => Code is "NAME_UNKNOWN" or "MANIFEST_UNKNOWN" or "BLOB_UNKNOWN" || Status == HttpStatusCode.NotFound;
}
