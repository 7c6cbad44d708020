using System.Globalization;
using System.Text;

namespace Dapp.Config.Templates;

/// <summary>
/// Template values as Go sees them: strings, 64-bit integers, floats, bools, nil, lists (<c>List&lt;object?&gt;</c>), maps
/// with string keys (<c>Dictionary&lt;string, object?&gt;</c>), and objects with methods (<see cref="ITemplateObject"/>).
/// </summary>
public static class Values
{
    /// <summary>
    /// What a missing map key gives (Go's invalid value): printed <c>&lt;no value&gt;</c>, false, and nil once passed to a
    /// function; a field of it is missing too. An explicit nil (a nil in a list or dict) prints the same but has no fields.
    /// </summary>
    public static readonly object Missing = new MissingValue();

    private sealed class MissingValue
    {
        public override string ToString() => "<no value>";
    }

    /// <summary>Go's truth: false, 0, nil, an empty string, list or map are false.</summary>
    public static bool IsTrue(object? value) => value switch
    {
        null => false,
        _ when ReferenceEquals(value, Missing) => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        Dictionary<string, object?> map => map.Count > 0,
        _ => true,
    };

    /// <summary>How <c>{{ value }}</c> prints it: Go's <c>fmt</c> <c>%v</c> (bounded: <see cref="ValueText"/>).</summary>
    public static string Print(object? value) => value switch
    {
        null => "<no value>",
        string s => s,
        List<object?> or Dictionary<string, object?> => Print(new ValueText("printing a value"), value).ToString(),
        _ => Scalar(value),
    };

    /// <summary>Writes <paramref name="value"/> as <c>%v</c> prints it into <paramref name="text"/>.</summary>
    internal static ValueText Print(ValueText text, object? value)
    {
        switch (value)
        {
            case List<object?> list:
                text.Enter(list);
                text.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) text.Append(' ');
                    PrintNested(text, list[i]);
                }
                text.Append(']');
                text.Leave(list);
                return text;
            case Dictionary<string, object?> map:
                text.Enter(map);
                text.Append("map[");
                var first = true;
                foreach (var (key, item) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) text.Append(' ');
                    first = false;
                    text.Append(key).Append(':');
                    PrintNested(text, item);
                }
                text.Append(']');
                text.Leave(map);
                return text;
            default:
                return text.Append(value is null ? "<no value>" : value as string ?? Scalar(value));
        }
    }

    private static string Scalar(object value) => value switch
    {
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatFloat(d),
        _ => value.ToString() ?? "",
    };

    /// <summary>Inside a list or map Go prints nil as <c>&lt;nil&gt;</c>.</summary>
    private static void PrintNested(ValueText text, object? value)
    {
        if (value is null) text.Append("<nil>");
        else Print(text, value);
    }

    /// <summary>sprig's string conversion (<c>fmt.Sprintf("%v")</c>), with nil as the empty string where sprig makes it so.</summary>
    public static string Text(object? value) => value is null || ReferenceEquals(value, Missing) ? "" : Print(value);

    /// <summary>Go's <c>%v</c> of a float64: the shortest digits that round-trip, with an exponent when it is below -4 or from 6 up (1e+06, 1.234567e+06).</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsPositiveInfinity(d)) return "+Inf";
        if (double.IsNegativeInfinity(d)) return "-Inf";
        if (double.IsNaN(d)) return "NaN";
        if (d == 0) return double.IsNegative(d) ? "-0" : "0";
        // "R" gives the shortest digits that round-trip, in either notation.
        var shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        string digits;
        int exponent;
        var e = shortest.IndexOf('E');
        if (e >= 0)
        {
            digits = shortest[..e].Replace(".", "");
            exponent = int.Parse(shortest[(e + 1)..], CultureInfo.InvariantCulture);
        }
        else
        {
            var point = shortest.IndexOf('.');
            var whole = point < 0 ? shortest : shortest[..point];
            var fraction = point < 0 ? "" : shortest[(point + 1)..];
            var all = (whole + fraction).TrimStart('0');
            exponent = whole.TrimStart('0').Length > 0 ? whole.TrimStart('0').Length - 1 : -(fraction.Length - fraction.TrimStart('0').Length) - 1;
            digits = all;
        }
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        var sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= FloatExponentThreshold)
            return $"{sign}{digits[0]}{(digits.Length > 1 ? "." + digits[1..] : "")}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        if (exponent < 0) return $"{sign}0.{new string('0', -exponent - 1)}{digits}";
        return digits.Length <= exponent + 1
            ? sign + digits + new string('0', exponent + 1 - digits.Length)
            : $"{sign}{digits[..(exponent + 1)]}.{digits[(exponent + 1)..]}";
    }

    /// <summary>From this decimal exponent up, %v prints a float64 with an exponent (Go's strconv 'g' at the shortest precision).</summary>
    private const int FloatExponentThreshold = 6;

    public static string TypeName(object? value) => value switch
    {
        null => "nil",
        string => "string",
        long => "int",
        double => "float64",
        bool => "bool",
        List<object?> => "[]interface {}",
        Dictionary<string, object?> => "map[string]interface {}",
        _ => value.GetType().Name,
    };

    /// <summary>Go's <c>eq</c> on basic values: numbers by value (an int and a float never compare equal in Go; here they do by value), others by kind and value.</summary>
    public static bool BasicEquals(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (long x, long y) => x == y,
        (long x, double y) => x == y,
        (double x, long y) => x == y,
        (double x, double y) => x == y,
        (string x, string y) => x == y,
        (bool x, bool y) => x == y,
        _ => false,
    };

    public static bool IsBasic(object? value) => value is null or string or long or double or bool;

    /// <summary>Whether a value is Go's zero value of its type (sprig's <c>empty</c>).</summary>
    public static bool IsEmpty(object? value) => !IsTrue(value);

    public static long ToInteger(object? value, string function) => value switch
    {
        long l => l,
        double d => (long)d,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
        bool b => b ? 1 : 0,
        null => 0,
        _ => throw new TemplateRuntimeException($"{function}: expected a number, got {TypeName(value)}"),
    };

    public static string Indent(string text, int spaces)
    {
        var pad = new string(' ', Math.Max(0, spaces));
        var builder = new StringBuilder();
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0) builder.Append('\n');
            builder.Append(pad).Append(lines[i]);
        }
        return builder.ToString();
    }
}

/// <summary>An object whose methods a template may call as fields (<c>.Files.Get "path"</c>).</summary>
internal interface ITemplateObject
{
    /// <summary>Calls the method; null when there is no such method.</summary>
    Func<object?[], object?>? Method(string name);
}

/// <summary>An error while a template runs; the evaluator adds where.</summary>
internal sealed class TemplateRuntimeException(string message) : Exception(message);
