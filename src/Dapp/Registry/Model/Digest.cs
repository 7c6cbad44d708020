using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Dapp.Registry.Model;

/// <summary>Content digests: <c>sha256:&lt;64 hex&gt;</c> (the only algorithm registries require).</summary>
internal static partial class Digest
{
    [GeneratedRegex("^sha256:[a-f0-9]{64}$")]
    private static partial Regex Sha256Pattern();

    public static bool TryParse(string value, out string digest)
    {
        digest = value;
        return Sha256Pattern().IsMatch(value);
    }

    public static string Of(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    public static string FromHash(byte[] sha256) => "sha256:" + Convert.ToHexStringLower(sha256);
}
