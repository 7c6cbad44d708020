using System.Globalization;
using System.Text;

namespace Dapp.Config.Templates;

/// <summary>Go's <c>json.Marshal</c> of template values (sprig's <c>toJson</c>): sorted keys, HTML-safe escapes.</summary>
internal static class GoJson
{
    public static string Serialize(object? value)
    {
        var text = new ValueText("toJson");
        Write(text, value);
        return text.ToString();
    }

    private static void Write(ValueText builder, object? value)
    {
        switch (value)
        {
            case null: builder.Append("null"); break;
            case bool b: builder.Append(b ? "true" : "false"); break;
            case long l: builder.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: builder.Append(Number(d)); break;
            case string s: String(builder, s); break;
            case List<object?> list:
                builder.Enter(list);
                builder.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) builder.Append(',');
                    Write(builder, list[i]);
                }
                builder.Append(']');
                builder.Leave(list);
                break;
            case Dictionary<string, object?> map:
                builder.Enter(map);
                builder.Append('{');
                var first = true;
                foreach (var (key, item) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) builder.Append(',');
                    first = false;
                    String(builder, key);
                    builder.Append(':');
                    Write(builder, item);
                }
                builder.Append('}');
                builder.Leave(map);
                break;
            default: builder.Append("{}"); break;
        }
    }

    /// <summary>encoding/json: plain decimals from 1e-6 to below 1e21, else exponent form (e-07, e+21).</summary>
    private static string Number(double d)
    {
        var abs = Math.Abs(d);
        if (abs != 0 && (abs < 1e-6 || abs >= 1e21))
        {
            var text = d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e");
            var at = text.IndexOf('e');
            var exponent = int.Parse(text[(at + 1)..], CultureInfo.InvariantCulture);
            return $"{text[..at]}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }
        return ShortestPlain(d);
    }

    private static string ShortestPlain(double d)
    {
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        return r.Contains('E') ? decimal.Parse(r, NumberStyles.Float, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) : r;
    }

    private static void String(ValueText text, string s)
    {
        TemplateLimits.CheckChars((long)text.Length + s.Length + 2, "toJson");
        var builder = new StringBuilder(s.Length + 2);
        builder.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '<': builder.Append("\\u003c"); break;
                case '>': builder.Append("\\u003e"); break;
                case '&': builder.Append("\\u0026"); break;
                case '\u2028': builder.Append("\\u2028"); break;
                case '\u2029': builder.Append("\\u2029"); break;
                default:
                    if (c < 0x20) builder.Append($"\\u{(int)c:x4}");
                    else builder.Append(c);
                    break;
            }
        }
        builder.Append('"');
        text.Append(builder.ToString());
    }
}
