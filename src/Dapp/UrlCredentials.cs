using System.Text.RegularExpressions;

namespace Dapp;

/// <summary>
/// URLs as dapp shows and records them (git remotes, DOCKER_HOST, token realms, and any text holding them): without the
/// credentials a URL may carry. No credential of any URL reaches any output (docs/reliability.md).
/// </summary>
public static partial class UrlCredentials
{
    [GeneratedRegex(@"(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")]
    private static partial Regex UserInfo();

    /// <summary>
    /// The URL without its user info (<c>https://user:token@host/x.git</c> → <c>https://host/x.git</c>): what messages,
    /// signatures and the cache's directory names use, so a rotating token neither leaks nor changes a signature.
    /// <c>ssh://git@host</c> and <c>git@host:path</c> keep their user, which is not a secret.
    /// Any text works too (git's own messages): the user info of every URL in it goes.
    /// </summary>
    public static string Redact(string text) =>
        UserInfo().Replace(text, m => m.Groups["scheme"].Value.Equals("ssh://", StringComparison.OrdinalIgnoreCase) && m.Value.IndexOf(':', 6) < 0
            ? m.Value
            : m.Groups["scheme"].Value);
}
