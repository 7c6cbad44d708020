using System.Globalization;
using System.Text;

namespace Dapp.Config.Templates;

/// <summary>Go's <c>fmt.Sprintf</c> for the verbs templates use: %v %s %d %q %t %f %e %g %x %X %o %b %c %%, with flags, width and precision.</summary>
internal static class GoFormat
{
    public static string Sprintf(string format, IReadOnlyList<object?> args)
    {
        var output = new StringBuilder();
        var next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c != '%')
            {
                output.Append(c);
                continue;
            }
            if (++i >= format.Length)
            {
                output.Append("%!(NOVERB)");
                break;
            }
            var minus = false;
            var plus = false;
            var zero = false;
            var space = false;
            var sharp = false;
            for (; i < format.Length && format[i] is '-' or '+' or '0' or ' ' or '#'; i++)
            {
                switch (format[i])
                {
                    case '-': minus = true; break;
                    case '+': plus = true; break;
                    case '0': zero = true; break;
                    case ' ': space = true; break;
                    default: sharp = true; break;
                }
            }
            int? width = null;
            while (i < format.Length && char.IsAsciiDigit(format[i])) width = (int)Math.Min(int.MaxValue, (width ?? 0) * 10L + (format[i++] - '0'));
            int? precision = null;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                precision = 0;
                while (i < format.Length && char.IsAsciiDigit(format[i])) precision = (int)Math.Min(int.MaxValue, precision.Value * 10L + (format[i++] - '0'));
            }
            if (i >= format.Length)
            {
                output.Append("%!(NOVERB)");
                break;
            }
            // A width or precision is allocated as padding or digits: bounded as every value is.
            TemplateLimits.CheckChars(Math.Max(width ?? 0, precision ?? 0), "printf");
            var verb = format[i];
            if (verb == '%')
            {
                output.Append('%');
                continue;
            }
            if (next >= args.Count)
            {
                output.Append($"%!{verb}(MISSING)");
                continue;
            }
            var arg = args[next++];
            var text = Verb(verb, arg, precision, plus, space, sharp);
            if (width is { } w && text.Length < w)
                text = minus ? text.PadRight(w) : zero && verb is not ('s' or 'q' or 'v') ? ZeroPad(text, w) : text.PadLeft(w);
            output.Append(text);
            TemplateLimits.CheckChars(output.Length, "printf");
        }
        if (next < args.Count)
            output.Append("%!(EXTRA ").Append(string.Join(", ", args.Skip(next).Select(a => $"{Values.TypeName(a)}={Values.Print(a)}"))).Append(')');
        return output.ToString();
    }

    private static string ZeroPad(string text, int width)
    {
        var sign = text.Length > 0 && text[0] is '-' or '+' ? text[..1] : "";
        return sign + text[sign.Length..].PadLeft(width - sign.Length, '0');
    }

    private static string Verb(char verb, object? arg, int? precision, bool plus, bool space, bool sharp)
    {
        switch (verb)
        {
            case 'v':
                return arg is null ? "<nil>" : Values.Print(arg);
            case 's':
                var s = arg is null ? "%!s(<nil>)" : Values.Print(arg);
                return precision is { } p && p < s.Length ? s[..p] : s;
            case 'q':
                return arg is long code ? "'" + char.ConvertFromUtf32((int)code) + "'" : Quote(Values.Text(arg));
            case 't':
                return arg is bool b ? (b ? "true" : "false") : Bad(verb, arg);
            case 'c':
                return arg is long c ? char.ConvertFromUtf32((int)c) : Bad(verb, arg);
            case 'd' or 'x' or 'X' or 'o' or 'b':
                if (arg is long n)
                {
                    var digits = verb switch
                    {
                        'd' => Math.Abs(n).ToString(CultureInfo.InvariantCulture),
                        'x' => Convert.ToString(Math.Abs(n), 16),
                        'X' => Convert.ToString(Math.Abs(n), 16).ToUpperInvariant(),
                        'o' => Convert.ToString(Math.Abs(n), 8),
                        _ => Convert.ToString(Math.Abs(n), 2),
                    };
                    if (sharp && verb is 'x' or 'X') digits = (verb == 'x' ? "0x" : "0X") + digits;
                    return (n < 0 ? "-" : plus ? "+" : space ? " " : "") + digits;
                }
                if (verb is 'x' or 'X' && arg is string str)
                {
                    var hex = Convert.ToHexString(Encoding.UTF8.GetBytes(str));
                    return verb == 'x' ? hex.ToLowerInvariant() : hex;
                }
                return Bad(verb, arg);
            case 'f' or 'F' or 'e' or 'E' or 'g' or 'G':
                if (arg is not double d) return Bad(verb, arg);
                var sign = d < 0 || double.IsNegative(d) ? "-" : plus ? "+" : space ? " " : "";
                var magnitude = Math.Abs(d);
                var body = verb switch
                {
                    'f' or 'F' => magnitude.ToString("F" + (precision ?? 6), CultureInfo.InvariantCulture),
                    'e' or 'E' => Exponent(magnitude, precision ?? 6, verb),
                    _ => precision is null ? Values.FormatFloat(magnitude) : magnitude.ToString("G" + precision, CultureInfo.InvariantCulture),
                };
                return sign + body;
            default:
                return $"%!{verb}({Values.TypeName(arg)}={Values.Print(arg)})";
        }
    }

    private static string Exponent(double value, int precision, char verb)
    {
        var text = value.ToString((verb == 'e' ? "e" : "E") + precision, CultureInfo.InvariantCulture);
        // .NET writes e+006; Go writes e+06.
        var at = text.IndexOfAny(['e', 'E']);
        var exponent = int.Parse(text[(at + 1)..], CultureInfo.InvariantCulture);
        return $"{text[..(at + 1)]}{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
    }

    private static string Bad(char verb, object? arg) => $"%!{verb}({Values.TypeName(arg)}={Values.Print(arg)})";

    /// <summary>Go's <c>strconv.Quote</c> (and <c>%q</c>): a double-quoted string with Go escapes.</summary>
    public static string Quote(string s)
    {
        var builder = new StringBuilder("\"");
        foreach (var rune in s.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\a': builder.Append("\\a"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\v': builder.Append("\\v"); break;
                default:
                    if (rune.Value < 0x20 || rune.Value == 0x7f) builder.Append($"\\x{rune.Value:x2}");
                    else if (Rune.IsControl(rune) || rune.Value is 0xFEFF) builder.Append(rune.Value > 0xFFFF ? $"\\U{rune.Value:x8}" : $"\\u{rune.Value:x4}");
                    else builder.Append(rune.ToString());
                    break;
            }
        }
        return builder.Append('"').ToString();
    }
}
