using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Dapp.Stages;

/// <summary>
/// The canonical encoding hashed into a stage signature (docs/signatures.md): a schema line, the stage name,
/// the previous signature, then one <c>key=json</c> line per input, in the order the stage writes them.
/// </summary>
public sealed class SignatureBuilder
{
    /// <summary>Bump when the encoding or a stage's inputs change meaning: every signature changes with it.</summary>
    public const int SchemaVersion = 1;

    private readonly StringBuilder _text = new();
    private readonly List<StageInput> _inputs = [];

    public SignatureBuilder(StageName stage, string? previousSignature)
    {
        _text.Append("dapp-stage-signature/").Append(SchemaVersion).Append('\n');
        _text.Append("stage=").Append(stage.DappName()).Append('\n');
        _text.Append("prev=").Append(previousSignature ?? "").Append('\n');
    }

    public SignatureBuilder Add(string key, string? value, SourceLocation? place = null)
    {
        _inputs.Add(new StageInput(key, [value], IsList: false, place is null ? [] : [StageInput.Place(place)]));
        _text.Append(key).Append('=').Append(JsonSerializer.Serialize(value, SignatureJson.Default.String)).Append('\n');
        return this;
    }

    /// <param name="places">Where the values are written: one per value, or one for them all.</param>
    public SignatureBuilder Add(string key, IEnumerable<string> values, IEnumerable<SourceLocation>? places = null)
    {
        var array = values.ToArray();
        _inputs.Add(new StageInput(key, array, IsList: true, places?.Select(StageInput.Place).ToList() ?? []));
        _text.Append(key).Append('=').Append(JsonSerializer.Serialize(array, SignatureJson.Default.StringArray)).Append('\n');
        return this;
    }

    /// <summary>The inputs added, in order: what a stage records of its signature (<see cref="StageInputs"/>).</summary>
    public IReadOnlyList<StageInput> Inputs => _inputs;

    /// <summary>The encoded text (what is hashed).</summary>
    public string Text => _text.ToString();

    public string Compute() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_text.ToString())));
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class SignatureJson : System.Text.Json.Serialization.JsonSerializerContext;
