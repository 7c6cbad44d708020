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

    public SignatureBuilder(StageName stage, string? previousSignature)
    {
        _text.Append("dapp-stage-signature/").Append(SchemaVersion).Append('\n');
        _text.Append("stage=").Append(stage.DappName()).Append('\n');
        _text.Append("prev=").Append(previousSignature ?? "").Append('\n');
    }

    public SignatureBuilder Add(string key, string? value)
    {
        _text.Append(key).Append('=').Append(JsonSerializer.Serialize(value, SignatureJson.Default.String)).Append('\n');
        return this;
    }

    public SignatureBuilder Add(string key, IEnumerable<string> values)
    {
        _text.Append(key).Append('=').Append(JsonSerializer.Serialize(values.ToArray(), SignatureJson.Default.StringArray)).Append('\n');
        return this;
    }

    /// <summary>The encoded text (what is hashed).</summary>
    public string Text => _text.ToString();

    public string Compute() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_text.ToString())));
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class SignatureJson : System.Text.Json.Serialization.JsonSerializerContext;
