using System.Text.Json;
using System.Text.Json.Serialization;
using Dapp.Reporting;

namespace Dapp.Cli;

/// <summary>
/// <c>--json</c>: one JSON object per stage on stdout, for machines
/// (<c>{"image":"backend","stage":"install","signature":"…","state":"BUILD"}</c>); everything else goes to stderr.
/// </summary>
internal sealed class JsonReporter(TextWriter output, TextWriter errors, OutputOptions options) : IReporter
{
    private readonly Lock _lock = new();

    public void Stage(StageEvent stage)
    {
        var line = JsonSerializer.Serialize(new StageLine(stage.Image, stage.Stage, stage.Signature, stage.State.Display().Trim('[', ']'), stage.Detail),
            JsonLines.Default.StageLine);
        lock (_lock) output.WriteLine(line);
    }

    public void StageBuilt(StageEvent stage, TimeSpan elapsed)
    {
        if (options.Time || options.Verbose) Error($"{stage.Image} {stage.Stage} built in {elapsed.TotalSeconds:0.00} s");
    }

    public void BuildOutput(string image, string line)
    {
        if (!options.Quiet) Error($"{image} | {line}");
    }

    public void Info(string message)
    {
        if (!options.Quiet) Error(message);
    }

    public void Warning(string message) => Error($"Warning: {message}");

    public ITransferDisplay BeginTransfers(string verb, int images) => NoTransferDisplay.Instance;

    private void Error(string line)
    {
        lock (_lock) errors.WriteLine(line);
    }
}

internal sealed record StageLine(
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("signature")] string Signature,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("detail"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail);

[JsonSerializable(typeof(StageLine))]
internal sealed partial class JsonLines : JsonSerializerContext;
