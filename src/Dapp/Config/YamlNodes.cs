using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Dapp.Config;

/// <summary>A YAML node that remembers where it came from, so every error can name file:line:col.</summary>
internal abstract record YNode(SourceLocation Location);

internal sealed record YScalar(SourceLocation Location, string Value, bool IsPlain) : YNode(Location)
{
    /// <summary>An explicit tag (<c>!unsafe</c>, <c>!!str</c>, as written); null without one.</summary>
    public string? Tag { get; init; }

    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";
}

internal sealed record YSequence(SourceLocation Location, IReadOnlyList<YNode> Items) : YNode(Location);

internal sealed record YMapping(SourceLocation Location, IReadOnlyList<KeyValuePair<YScalar, YNode>> Entries) : YNode(Location)
{
    /// <summary>The value of a key; null when the key is absent.</summary>
    public YNode? Get(string key) => Entries.FirstOrDefault(e => e.Key.Value == key).Value;

    /// <summary>Where a key is written; null when it is absent.</summary>
    public SourceLocation? KeyLocation(string key) => Entries.FirstOrDefault(e => e.Key.Value == key).Key?.Location;
}

/// <summary>
/// Reads a multi-document YAML stream into <see cref="YNode"/> trees; duplicate keys are errors. Nesting is bounded
/// (<see cref="MaxDepth"/>), and so is what aliases expand to (<see cref="MaxNodes"/>): whoever walks a tree never
/// meets a billion laughs.
/// </summary>
internal static class YamlDocuments
{
    public const int MaxDepth = 200;
    public const int MaxNodes = 1_000_000;

    /// <summary>Nodes of a document counted with every alias expanded, and the weight of each anchored node.</summary>
    private sealed class Reading(string file)
    {
        public string File { get; } = file;
        public Dictionary<string, (YNode Node, long Weight)> Anchors { get; } = [];
        public long Nodes;
    }

    public static IReadOnlyList<YNode?> Parse(string text, string file)
    {
        var parser = new Parser(new StringReader(text));
        var documents = new List<YNode?>();
        try
        {
            parser.Consume<StreamStart>();
            var explicitEnd = false;
            while (parser.TryConsume<DocumentStart>(out var start))
            {
                // After "...", YAML starts a new document only with "---": content right after it is a mistake dapp's YAML refused.
                if (explicitEnd && start.IsImplicit)
                    throw new DappfileException(At(start, file), "content after the document end marker '...': start another document with '---', or remove the '...'");
                var reading = new Reading(file);
                YNode? root = parser.Accept<DocumentEnd>(out _) ? null : ReadNode(parser, reading, 0, out _);
                explicitEnd = !parser.Consume<DocumentEnd>().IsImplicit;
                documents.Add(root);
            }
            parser.Consume<StreamEnd>();
        }
        catch (YamlException e) when (e is not null)
        {
            var reason = e.InnerException?.Message ?? e.Message;
            // A scanner error is found where the scanner stands (a tab on the next line), not where the token it read began.
            var at = e is SyntaxErrorException ? e.End : e.Start;
            throw new DappfileException(new SourceLocation(file, (int)at.Line, (int)at.Column), $"invalid YAML: {StripPosition(reason)}");
        }
        return documents;
    }

    private static string StripPosition(string message)
    {
        // YamlDotNet prefixes some messages with "(Line: n, Col: m, Idx: i) - (…): "; we print our own position.
        var idx = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && idx > 0 ? message[(idx + 3)..] : message;
    }

    private static SourceLocation At(ParsingEvent e, string file) => new(file, (int)e.Start.Line, (int)e.Start.Column);

    /// <param name="weight">The node's size with its aliases expanded.</param>
    private static YNode ReadNode(IParser parser, Reading reading, int depth, out long weight)
    {
        var file = reading.File;
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (!reading.Anchors.TryGetValue(alias.Value.Value, out var target))
                throw new DappfileException(At(alias, file), $"unknown alias *{alias.Value.Value}");
            weight = target.Weight;
            Count(reading, weight, alias);
            return target.Node;
        }
        parser.Accept<ParsingEvent>(out var next);
        if (depth > MaxDepth && next is SequenceStart or MappingStart)
            throw new DappfileException(At(next, file), $"the YAML nests deeper than {MaxDepth} levels");
        weight = 1;
        Count(reading, 1, next!);
        YNode node;
        string? anchor = null;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            anchor = scalar.Anchor.IsEmpty ? null : scalar.Anchor.Value;
            node = new YScalar(At(scalar, file), scalar.Value, scalar.Style == ScalarStyle.Plain) { Tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value };
        }
        else if (parser.TryConsume<SequenceStart>(out var seqStart))
        {
            anchor = seqStart.Anchor.IsEmpty ? null : seqStart.Anchor.Value;
            var items = new List<YNode>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                items.Add(ReadNode(parser, reading, depth + 1, out var item));
                weight += item;
            }
            node = new YSequence(At(seqStart, file), items);
        }
        else if (parser.TryConsume<MappingStart>(out var mapStart))
        {
            anchor = mapStart.Anchor.IsEmpty ? null : mapStart.Anchor.Value;
            var entries = new List<KeyValuePair<YScalar, YNode>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = ReadNode(parser, reading, depth + 1, out var keyWeight);
                if (key is not YScalar keyScalar)
                    throw new DappfileException(key.Location, "a mapping key must be a plain string");
                if (!seen.Add(keyScalar.Value))
                    throw new DappfileException(keyScalar.Location, $"duplicate key '{keyScalar.Value}'");
                entries.Add(new(keyScalar, ReadNode(parser, reading, depth + 1, out var valueWeight)));
                weight += keyWeight + valueWeight;
            }
            node = new YMapping(At(mapStart, file), entries);
        }
        else
        {
            parser.Accept<ParsingEvent>(out var unexpected);
            throw new DappfileException(unexpected is null ? new SourceLocation(file, 1, 1) : At(unexpected, file), "unexpected YAML content");
        }
        if (anchor is not null) reading.Anchors[anchor] = (node, weight);
        return node;
    }

    private static void Count(Reading reading, long nodes, ParsingEvent at)
    {
        if ((reading.Nodes += nodes) > MaxNodes)
            throw new DappfileException(At(at, reading.File), $"the YAML document expands to more than {MaxNodes} nodes (aliases that repeat each other?)");
    }
}
