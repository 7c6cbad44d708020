namespace Dapp.Registry.Model;

/// <summary>
/// What went wrong with a registry request: the error codes of the distribution spec (and Docker's extensions), and
/// the few conditions dapp detects itself where the registry sent no code.
/// </summary>
public enum RegistryErrorCode
{
    /// <summary>A code dapp does not know, or none at all.</summary>
    Unknown,
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    ManifestUnverified,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    TagInvalid,
    RangeInvalid,
    PaginationNumberInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    TooManyRequests,

    /// <summary>404 without a registry error body.</summary>
    NotFound,

    /// <summary>No answer: connection refused or reset, DNS failure, timeouts, after the retries.</summary>
    Unreachable,

    /// <summary>The server answered, but not as a Docker registry does (an HTML page, a wrong port, a captive proxy).</summary>
    NotARegistry,

    /// <summary>The registry asked for a token from a realm dapp refuses to send credentials to.</summary>
    RealmRefused,
}

internal static class RegistryErrorCodes
{
    private static readonly Dictionary<string, RegistryErrorCode> ByWireName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["BLOB_UNKNOWN"] = RegistryErrorCode.BlobUnknown,
        ["BLOB_UPLOAD_INVALID"] = RegistryErrorCode.BlobUploadInvalid,
        ["BLOB_UPLOAD_UNKNOWN"] = RegistryErrorCode.BlobUploadUnknown,
        ["DIGEST_INVALID"] = RegistryErrorCode.DigestInvalid,
        ["MANIFEST_BLOB_UNKNOWN"] = RegistryErrorCode.ManifestBlobUnknown,
        ["MANIFEST_INVALID"] = RegistryErrorCode.ManifestInvalid,
        ["MANIFEST_UNKNOWN"] = RegistryErrorCode.ManifestUnknown,
        ["MANIFEST_UNVERIFIED"] = RegistryErrorCode.ManifestUnverified,
        ["NAME_INVALID"] = RegistryErrorCode.NameInvalid,
        ["NAME_UNKNOWN"] = RegistryErrorCode.NameUnknown,
        ["SIZE_INVALID"] = RegistryErrorCode.SizeInvalid,
        ["TAG_INVALID"] = RegistryErrorCode.TagInvalid,
        ["RANGE_INVALID"] = RegistryErrorCode.RangeInvalid,
        ["PAGINATION_NUMBER_INVALID"] = RegistryErrorCode.PaginationNumberInvalid,
        ["UNAUTHORIZED"] = RegistryErrorCode.Unauthorized,
        ["DENIED"] = RegistryErrorCode.Denied,
        ["UNSUPPORTED"] = RegistryErrorCode.Unsupported,
        ["TOOMANYREQUESTS"] = RegistryErrorCode.TooManyRequests,
    };

    public static RegistryErrorCode Parse(string? wireName) =>
        wireName is not null && ByWireName.TryGetValue(wireName, out var code) ? code : RegistryErrorCode.Unknown;

    /// <summary>The spec's spelling (MANIFEST_UNKNOWN), or dapp's own for the conditions it detects (NOT_A_REGISTRY).</summary>
    public static string WireName(this RegistryErrorCode code) =>
        ByWireName.FirstOrDefault(p => p.Value == code).Key ?? code switch
        {
            RegistryErrorCode.NotFound => "NOT_FOUND",
            RegistryErrorCode.Unreachable => "UNREACHABLE",
            RegistryErrorCode.NotARegistry => "NOT_A_REGISTRY",
            RegistryErrorCode.RealmRefused => "REALM_REFUSED",
            _ => "UNKNOWN",
        };
}
