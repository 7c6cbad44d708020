using System.Globalization;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace Dapp.Config.Templates;

/// <summary>
/// Helm's <c>toYaml</c> and <c>fromYaml</c> (which dapp users brought along): values to YAML with sorted keys and no
/// trailing newline; YAML to values, numbers as floats (as Helm's JSON round trip makes them), an invalid document as
/// a map whose <c>Error</c> key says why.
/// </summary>
public static class TemplateYaml
{
    public static string Serialize(object? value)
    {
        if (value is null) return "null";
        var yaml = new SerializerBuilder().Build().Serialize(Plain(value));
        return yaml.TrimEnd('\n');
    }

    private static object? Plain(object? value) => value switch
    {
        Dictionary<string, object?> map => new SortedDictionary<string, object?>(map.ToDictionary(p => p.Key, p => Plain(p.Value)), StringComparer.Ordinal),
        List<object?> list => list.Select(Plain).ToList(),
        _ => value,
    };

    public static object? Parse(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0) return new Dictionary<string, object?>();
            return Convert(stream.Documents[0].RootNode) is Dictionary<string, object?> map ? map : new Dictionary<string, object?>
            {
                ["Error"] = "error unmarshaling JSON: json: cannot unmarshal a non-object into Go value of type map[string]interface {}",
            };
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            return new Dictionary<string, object?> { ["Error"] = e.Message };
        }
    }

    private static object? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => map.Children.ToDictionary(p => (p.Key as YamlScalarNode)?.Value ?? p.Key.ToString(), p => Convert(p.Value)),
        YamlSequenceNode sequence => sequence.Children.Select(Convert).ToList(),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static object? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is not YamlDotNet.Core.ScalarStyle.Plain) return value;
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        if (value is "true" or "True" or "TRUE" or "yes" or "Yes" or "on" or "On") return true;
        if (value is "false" or "False" or "FALSE" or "no" or "No" or "off" or "Off") return false;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return number;
        return value;
    }
}
