using System.Text;
using System.Text.RegularExpressions;

namespace Dapp.Config;

/// <summary>
/// The part of dapp's Go-template rendering that dappfiles use: <c>{{ env "NAME" }}</c> (empty when unset)
/// and <c>{{/* comments */}}</c>. Any other action is an error, so nothing is silently left unrendered.
/// </summary>
public static partial class DappfileTemplate
{
    [GeneratedRegex(@"\{\{(-?)(.*?)(-?)\}\}", RegexOptions.Singleline)]
    private static partial Regex Action();

    [GeneratedRegex("^env\\s+\"([^\"]*)\"$")]
    private static partial Regex EnvCall();

    [GeneratedRegex(@"^/\*.*\*/$", RegexOptions.Singleline)]
    private static partial Regex Comment();

    public static string Render(string text, string file, Func<string, string?> environment)
    {
        var result = new StringBuilder(text.Length);
        int last = 0;
        foreach (Match m in Action().Matches(text))
        {
            result.Append(text, last, m.Index - last);
            last = m.Index + m.Length;
            var body = m.Groups[2].Value.Trim();
            if (Comment().IsMatch(body)) continue;
            var env = EnvCall().Match(body);
            if (!env.Success)
                throw new DappfileException(LocationOf(text, m.Index, file),
                    $"unsupported template action '{{{{{m.Groups[2].Value}}}}}': only {{{{ env \"NAME\" }}}} and {{{{/* comments */}}}} are supported");
            result.Append(environment(env.Groups[1].Value) ?? "");
        }
        var unclosed = text.IndexOf("{{", last, StringComparison.Ordinal);
        if (unclosed >= 0)
            throw new DappfileException(LocationOf(text, unclosed, file), "template action '{{' is not closed with '}}'");
        result.Append(text, last, text.Length - last);
        return result.ToString();
    }

    internal static SourceLocation LocationOf(string text, int index, string file)
    {
        int line = 1, col = 1;
        for (int i = 0; i < index; i++)
        {
            if (text[i] == '\n') { line++; col = 1; }
            else col++;
        }
        return new SourceLocation(file, line, col);
    }
}
