using System.Text;
using System.Text.RegularExpressions;

namespace Dapp.Config;

/// <summary>dapp's slug: a valid slug is kept; anything else is transliterated and suffixed with its murmur3 hash.</summary>
internal static partial class Slug
{
    private const string DashCharacters = "&(){}-_[],.;:=+<>~`";

    private static readonly Dictionary<char, string> Cyrillic = new()
    {
        ['а'] = "a", ['б'] = "b", ['в'] = "v", ['г'] = "g", ['д'] = "d", ['е'] = "e", ['ё'] = "e", ['ж'] = "zh",
        ['з'] = "z", ['и'] = "i", ['й'] = "i", ['к'] = "k", ['л'] = "l", ['м'] = "m", ['н'] = "n", ['о'] = "o",
        ['п'] = "p", ['р'] = "r", ['с'] = "s", ['т'] = "t", ['у'] = "u", ['ф'] = "f", ['х'] = "h", ['ц'] = "c",
        ['ч'] = "ch", ['ш'] = "sh", ['щ'] = "sch", ['ъ'] = "", ['ы'] = "y", ['ь'] = "", ['э'] = "e", ['ю'] = "yu",
        ['я'] = "ya",
    };

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex ValidSlug();

    public static bool IsValid(string value) => ValidSlug().IsMatch(value);

    public static string Make(string value)
    {
        if (IsValid(value)) return value;
        // dapp printed the digest bytes, which are little-endian.
        var hash = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(Murmur3.Hash32(Encoding.UTF8.GetBytes(value))).ToString("x8");
        var body = Transliterate(value);
        return body.Length == 0 ? hash : $"{body}-{hash}";
    }

    private static string Transliterate(string value)
    {
        var sb = new StringBuilder();
        foreach (var raw in value)
        {
            var c = char.ToLowerInvariant(raw);
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') sb.Append(c);
            else if (Cyrillic.TryGetValue(c, out var latin)) sb.Append(latin);
            else if (DashCharacters.Contains(c) || char.IsWhiteSpace(c)) sb.Append('-');
        }
        var collapsed = Regex.Replace(sb.ToString(), "-+", "-");
        return collapsed.Trim('-');
    }
}
