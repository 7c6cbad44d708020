using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Dapp.Config.Templates;

/// <summary>
/// Helm's <c>toYaml</c> and <c>fromYaml</c> (which dapp users brought along): values to YAML with sorted keys and no
/// trailing newline; YAML to values, numbers as floats (as Helm's JSON round trip makes them), an invalid document as
/// a map whose <c>Error</c> key says why.
/// </summary>
internal static class TemplateYaml
{
    /// <summary>
    /// Built as a YAML node tree and written by YamlDotNet's emitter (no reflection: it must run in the Native AOT
    /// binary); a string that would read back as another type (true, 1.5, null) is quoted, as Go's yaml does.
    /// </summary>
    public static string Serialize(object? value)
    {
        var stream = new YamlStream(new YamlDocument(Node(value, new HashSet<object>(ReferenceEqualityComparer.Instance))));
        using var writer = new BoundedWriter();
        stream.Save(writer, assignAnchors: false);
        var text = writer.ToString();
        if (text.EndsWith("...\n", StringComparison.Ordinal)) text = text[..^4];
        return text.TrimEnd('\n');
    }

    private static YamlNode Node(object? value, HashSet<object> open)
    {
        if (value is not (Dictionary<string, object?> or List<object?>)) return ScalarNode(value);
        ValueText.Enter(value, open, "toYaml");
        YamlNode node = value is Dictionary<string, object?> map
            ? new YamlMappingNode(map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new KeyValuePair<YamlNode, YamlNode>(ScalarNode(p.Key), Node(p.Value, open))).ToList())
            : new YamlSequenceNode(((List<object?>)value).Select(v => Node(v, open)).ToList());
        open.Remove(value);
        return node;
    }

    private static YamlNode ScalarNode(object? value) => value switch
    {
        string s => Scalar(s) is string ? new YamlScalarNode(s) : new YamlScalarNode(s) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted },
        null => new YamlScalarNode("null"),
        _ => new YamlScalarNode(Values.Print(value)),
    };

    private sealed class NodeCount
    {
        public int Value;
    }

    /// <summary>The emitter's output, bounded as every template value is (a list of many references to one large string).</summary>
    private sealed class BoundedWriter : StringWriter
    {
        public override void Write(char value)
        {
            TemplateLimits.CheckChars(GetStringBuilder().Length + 1L, "toYaml");
            base.Write(value);
        }

        public override void Write(char[] buffer, int index, int count)
        {
            TemplateLimits.CheckChars((long)GetStringBuilder().Length + count, "toYaml");
            base.Write(buffer, index, count);
        }

        public override void Write(string? value)
        {
            TemplateLimits.CheckChars((long)GetStringBuilder().Length + (value?.Length ?? 0), "toYaml");
            base.Write(value);
        }
    }

    public static object? Parse(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0) return new Dictionary<string, object?>();
            return Convert(stream.Documents[0].RootNode, new NodeCount(), 0) is Dictionary<string, object?> map ? map : new Dictionary<string, object?>
            {
                ["Error"] = "error unmarshaling JSON: json: cannot unmarshal a non-object into Go value of type map[string]interface {}",
            };
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            return new Dictionary<string, object?> { ["Error"] = e.Message };
        }
    }

    /// <summary>A node as template values; <paramref name="nodes"/> counts the values made, which aliases can multiply.</summary>
    private static object? Convert(YamlNode node, NodeCount nodes, int depth)
    {
        if (++nodes.Value > TemplateLimits.MaxElements)
            throw new TemplateRuntimeException($"fromYaml: the document expands to more than {TemplateLimits.MaxElements} values (aliases?)");
        if (depth > TemplateLimits.MaxNesting)
            throw new TemplateRuntimeException($"fromYaml: the document nests deeper than {TemplateLimits.MaxNesting} levels");
        TemplateLimits.EnsureStack();
        return node switch
        {
            YamlMappingNode map => map.Children.ToDictionary(p => (p.Key as YamlScalarNode)?.Value ?? p.Key.ToString(), p => Convert(p.Value, nodes, depth + 1)),
            YamlSequenceNode sequence => sequence.Children.Select(c => Convert(c, nodes, depth + 1)).ToList(),
            YamlScalarNode scalar => Scalar(scalar),
            _ => null,
        };
    }

    private static object? Scalar(YamlScalarNode scalar) =>
        scalar.Style is not YamlDotNet.Core.ScalarStyle.Plain ? scalar.Value ?? "" : Scalar(scalar.Value ?? "");

    /// <summary>What a plain scalar means (YAML 1.1, as Go's yaml reads it); numbers as floats.</summary>
    private static object? Scalar(string value)
    {
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        if (value is "true" or "True" or "TRUE" or "yes" or "Yes" or "on" or "On") return true;
        if (value is "false" or "False" or "FALSE" or "no" or "No" or "off" or "Off") return false;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return number;
        return value;
    }
}
