using System.Globalization;
using System.Text;

namespace Dapp.Config;

/// <summary>
/// Writes an ansible task as canonical block YAML (docs/signatures.md): mapping keys sorted (ordinal), two-space
/// indentation, scalars as the dappfile wrote them: a plain scalar stays plain, so ansible's YAML reading gives it the
/// type it would have given it in the dappfile (<c>mode: 0755</c> stays an octal number, <c>yes</c> a boolean); any
/// quoted or block scalar becomes one double-quoted string; a scalar's explicit tag (ansible's <c>!unsafe</c>, <c>!vault</c>)
/// is kept before it. Comments, quoting style, anchors and key order do not change the text, so they do not change
/// the signature.
/// </summary>
internal static class AnsibleYaml
{
    public static string Write(YNode node) => string.Join('\n', Lines(node)) + "\n";

    /// <summary>The lines of a mapping or sequence in block style, unindented.</summary>
    private static IEnumerable<string> Lines(YNode node)
    {
        switch (node)
        {
            case YMapping map:
                foreach (var (key, value) in map.Entries.OrderBy(e => e.Key.Value, StringComparer.Ordinal))
                    foreach (var line in Entry(Scalar(key) + ":", "  ", value)) yield return line;
                break;
            case YSequence seq:
                foreach (var item in seq.Items)
                    foreach (var line in Entry("-", "  ", item)) yield return line;
                break;
            default:
                throw new ArgumentException("a block node is a mapping or a sequence", nameof(node));
        }
    }

    /// <summary>A key or sequence item: a scalar or an empty collection on its line; a collection below it, nested.</summary>
    private static IEnumerable<string> Entry(string head, string indent, YNode value)
    {
        switch (value)
        {
            case YScalar s:
                var text = Scalar(s);
                yield return text.Length == 0 ? head : $"{head} {text}";
                break;
            case YMapping { Entries.Count: 0 }:
                yield return head + " {}";
                break;
            case YSequence { Items.Count: 0 }:
                yield return head + " []";
                break;
            case YSequence when head != "-":
                // A sequence under a key: its items on the following lines, indented.
                yield return head;
                foreach (var line in Lines(value)) yield return indent + line;
                break;
            default:
                // A mapping under a key goes below it; under "-" (or a sequence under "-"), its first line shares the dash's.
                var first = true;
                foreach (var line in Lines(value))
                {
                    if (first && head == "-") yield return "- " + line;
                    else if (first) { yield return head; yield return indent + line; }
                    else yield return indent + line;
                    first = false;
                }
                break;
        }
    }

    private static string Scalar(YScalar scalar)
    {
        var text = scalar.IsPlain && !scalar.Value.Contains('\n') ? scalar.Value : DoubleQuoted(scalar.Value);
        return scalar.Tag is null ? text : $"{Tag(scalar.Tag)} {text}".TrimEnd();
    }

    /// <summary>A tag as ansible reads it: its own local tags (<c>!unsafe</c>, <c>!vault</c>) as written, YAML's in the <c>!!</c> short form.</summary>
    private static string Tag(string tag) =>
        tag.StartsWith("tag:yaml.org,2002:", StringComparison.Ordinal) ? "!!" + tag["tag:yaml.org,2002:".Length..]
        : tag.StartsWith('!') ? tag : $"!<{tag}>";

    private static string DoubleQuoted(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var rune in value.EnumerateRunes())
        {
            var c = rune.Value;
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when c < 0x20 || c is 0x7F or (>= 0x80 and <= 0x9F) => "\\x" + c.ToString("X2", CultureInfo.InvariantCulture),
                0x2028 or 0x2029 or 0xFEFF => "\\u" + c.ToString("X4", CultureInfo.InvariantCulture),
                _ => rune.ToString(),
            });
        }
        return text.Append('"').ToString();
    }
}
