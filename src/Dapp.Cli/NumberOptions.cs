using System.CommandLine;
using System.Globalization;

namespace Dapp.Cli;

/// <summary>
/// Options whose value is a whole number in a range: any other value (not a number, negative, too large for the
/// range or for a 32-bit int) is a one-line error naming the option and the form it takes, never an exception.
/// </summary>
internal static class NumberOptions
{
    public static Option<int> Create(string name, int min, int max, int defaultValue, string unit, string description)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result =>
        {
            if (result.Tokens.Count == 0) return defaultValue;
            var text = result.Tokens[^1].Value;
            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
                return (int)value;
            result.AddError($"{name} takes a whole number of {unit} from {min} to {max}, got '{Shorten(text)}'");
            return defaultValue;
        };
        return option;
    }

    /// <summary>Only these values: any other is a one-line error naming the option and them (the library's own message names neither).</summary>
    public static T OneOf<T>(T option, params string[] values) where T : Option<string>
    {
        option.Validators.Add(result =>
        {
            var given = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
            if (given is not null && !values.Contains(given))
                result.AddError($"{option.Name} takes {string.Join(", ", values[..^1])} or {values[^1]}, got '{Shorten(given)}'");
        });
        return option;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
