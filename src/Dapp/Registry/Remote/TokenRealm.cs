using System.Net;
using System.Net.Sockets;
using Dapp.Registry.Model;

namespace Dapp.Registry.Remote;

/// <summary>
/// Checks the realm a registry names for its tokens before any credential goes there: a registry (or whoever answers
/// in its place) could otherwise make dapp send the user's password to any URL, a local file or a cloud metadata
/// service. Accepted: absolute https URLs, and http when the registry itself is reached over plain http; never a
/// link-local address (169.254.0.0/16, fe80::/10: cloud metadata endpoints live there).
/// </summary>
internal static class TokenRealm
{
    public static async Task<Uri> ValidateAsync(string registry, string? realm, bool registryIsPlainHttp, CancellationToken ct)
    {
        if (realm is not { Length: > 0 })
            throw Refused(registry, "(none)", "the challenge has no realm");
        if (!Uri.TryCreate(realm, UriKind.Absolute, out var uri))
            throw Refused(registry, realm, "it is not an absolute URL");
        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && registryIsPlainHttp))
            throw Refused(registry, realm, uri.Scheme == Uri.UriSchemeHttp
                ? "a token server must use https:// when the registry does"
                : $"a token server must be an https:// URL, not {uri.Scheme}:");
        if (!string.IsNullOrEmpty(uri.UserInfo))
            throw Refused(registry, realm, "it carries user information");
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, ct);
        }
        catch (SocketException e)
        {
            throw RegistryException.TokenServerUnreachable($"the token server of {registry} at {uri.GetLeftPart(UriPartial.Path)}", e);
        }
        if (addresses.FirstOrDefault(IsLinkLocal) is { } linkLocal)
            throw Refused(registry, realm, $"{linkLocal} is a link-local address (where cloud metadata services answer)");
        return uri;
    }

    public static bool IsLinkLocal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetworkV6) return address.IsIPv6LinkLocal;
        var bytes = address.GetAddressBytes();
        return bytes[0] == 169 && bytes[1] == 254;
    }

    private static RegistryException Refused(string registry, string realm, string why) =>
        new($"The registry {registry} asks for credentials to be sent to the token realm '{UrlCredentials.Redact(realm)}', which dapp refuses: {why}. No credentials were sent.",
            RegistryErrorCode.RealmRefused, HttpStatusCode.Unauthorized);
}
