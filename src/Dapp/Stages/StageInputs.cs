using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Dapp.Stages;

/// <summary>One input of a stage's signature: a key and its value (or values), and where the dappfile says it (<c>dappfile.yml:14</c>).</summary>
public sealed record StageInput(string Key, IReadOnlyList<string?> Values, bool IsList, IReadOnlyList<string> Places)
{
    public static string Place(SourceLocation location) => $"{location.File}:{location.Line}";
}

/// <summary>
/// An input as a stage image records it (docs/signatures.md, "What a stage records"): long values shortened to a
/// prefix and a hash, long lists to their count and a hash, so that a label stays small whatever the dappfile holds.
/// Two inputs are the same when their recorded forms are.
/// </summary>
public sealed record RecordedInput(string Key, IReadOnlyList<string?>? Values, bool IsList, IReadOnlyList<string> Places, int Count, string? Digest)
{
    /// <summary>A value longer than this is recorded as its first <see cref="KeptChars"/> characters and a hash of the whole.</summary>
    public const int MaxValueChars = 200;
    public const int KeptChars = 120;

    /// <summary>A list whose values add up to more than this (or has more than <see cref="MaxListValues"/>) is recorded as its count and hash.</summary>
    public const int MaxListChars = 2000;
    public const int MaxListValues = 40;

    public bool IsHashed => Digest is not null;

    public static RecordedInput Of(StageInput input)
    {
        var values = input.Values.Select(Shorten).ToList();
        if (input.IsList && (values.Count > MaxListValues || values.Sum(v => v?.Length ?? 0) > MaxListChars))
            return new RecordedInput(input.Key, null, true, [], values.Count, Hash(string.Join("\n", input.Values.Select(v => JsonSerializer.Serialize(v, SignatureJson.Default.String)))));
        return new RecordedInput(input.Key, values, input.IsList, input.Places, values.Count, null);
    }

    public bool SameAs(RecordedInput other) =>
        Key == other.Key && IsList == other.IsList && Digest == other.Digest && Count == other.Count
        && (Values is null ? other.Values is null : other.Values is not null && Values.SequenceEqual(other.Values));

    /// <summary>How a person reads the value: a JSON string or list, or the count and hash of a list too long to record.</summary>
    public string Display => Values is null ? $"({Count} values, sha256 {Digest![..12]})"
        : IsList ? "[" + string.Join(", ", Values.Select(Quote)) + "]" : Quote(Values.FirstOrDefault());

    public static string Quote(string? value) => value is null ? "none" : JsonSerializer.Serialize(value, ReadableJson.Relaxed.String);

    private static string? Shorten(string? value) =>
        value is null || value.Length <= MaxValueChars ? value : $"{value[..KeptChars]}… (sha256 {Hash(value)[..16]})";

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>The base image a <c>from</c> stage was built from: the name the dappfile gives and the image (its ID) that name was then.</summary>
public sealed record BaseImageRecord(string Name, string Id);

/// <summary>
/// What a stage image records of its signature's inputs, in its <c>dapp-stage-inputs</c> label (JSON; docs/signatures.md).
/// </summary>
/// <param name="Last">The last stage of the chain the stage was built in: a chain known up to a stage that says it is its last is whole.</param>
public sealed record StageInputs(IReadOnlyList<RecordedInput> Inputs, BaseImageRecord? Base, string? Last = null)
{
    public const string Label = "dapp-stage-inputs";
    private const int Version = 1;

    public static StageInputs Of(IEnumerable<StageInput> inputs, BaseImageRecord? baseImage = null, string? last = null) =>
        new(inputs.Select(RecordedInput.Of).ToList(), baseImage, last);

    public string Encode()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("v", Version);
            json.WriteStartArray("inputs");
            foreach (var input in Inputs)
            {
                json.WriteStartObject();
                json.WriteString("k", input.Key);
                if (input.Values is null)
                {
                    json.WriteNumber("n", input.Count);
                    json.WriteString("sha256", input.Digest);
                }
                else if (input.IsList)
                {
                    json.WriteStartArray("v");
                    foreach (var value in input.Values) json.WriteStringValue(value);
                    json.WriteEndArray();
                }
                else if (input.Values.FirstOrDefault() is { } value) json.WriteString("v", value);
                else json.WriteNull("v");
                if (input.Values is not null && input.Places.Count > 0)
                {
                    json.WriteStartArray("at");
                    foreach (var place in input.Places) json.WriteStringValue(place);
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (Last is not null) json.WriteString("last", Last);
            if (Base is not null)
            {
                json.WriteStartObject("base");
                json.WriteString("name", Base.Name);
                json.WriteString("id", Base.Id);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The inputs a stage image's labels record; null when it records none (built by an older dapp) or what it records cannot be read.</summary>
    public static StageInputs? Decode(IReadOnlyDictionary<string, string>? labels)
    {
        if (labels?.GetValueOrDefault(Label) is not { Length: > 0 } text) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("v", out var v) || v.ValueKind != JsonValueKind.Number || v.GetInt32() != Version
                || !root.TryGetProperty("inputs", out var list) || list.ValueKind != JsonValueKind.Array)
                return null;
            var inputs = new List<RecordedInput>();
            foreach (var item in list.EnumerateArray())
            {
                var key = item.GetProperty("k").GetString() ?? "";
                var places = item.TryGetProperty("at", out var at) ? at.EnumerateArray().Select(p => p.GetString() ?? "").ToList() : [];
                if (item.TryGetProperty("sha256", out var digest))
                    inputs.Add(new RecordedInput(key, null, true, [], item.GetProperty("n").GetInt32(), digest.GetString()));
                else if (item.GetProperty("v") is { ValueKind: JsonValueKind.Array } values)
                {
                    var strings = values.EnumerateArray().Select(x => x.GetString()).ToList();
                    inputs.Add(new RecordedInput(key, strings, true, places, strings.Count, null));
                }
                else inputs.Add(new RecordedInput(key, [item.GetProperty("v").GetString()], false, places, 1, null));
            }
            BaseImageRecord? baseImage = root.TryGetProperty("base", out var b) && b.ValueKind == JsonValueKind.Object
                ? new BaseImageRecord(b.GetProperty("name").GetString() ?? "", b.GetProperty("id").GetString() ?? "")
                : null;
            var last = root.TryGetProperty("last", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
            return new StageInputs(inputs, baseImage, last);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>JSON as a person reads it: <c>&gt;</c>, <c>&amp;</c> and non-ASCII letters as they are.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class ReadableJson : System.Text.Json.Serialization.JsonSerializerContext
{
    public static ReadableJson Relaxed { get; } = new(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
