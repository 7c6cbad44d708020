using System.Text.Json;
using System.Text.Json.Serialization;
using Dapp.Reporting;

namespace Dapp.Cli;

/// <summary>
/// <c>--json</c>: the results on stdout, one JSON object per line, for machines (docs/json.md): a stage
/// (<c>{"type":"stage","image":"backend","stage":"install","signature":"…","state":"BUILD"}</c>), a removal, a transfer
/// summary, a dimg listed, a stage image named; everything else (build output, progress, messages) goes to stderr.
/// </summary>
internal sealed class JsonReporter(TextWriter output, TextWriter errors, OutputOptions options) : IReporter
{
    private readonly Lock _lock = new();

    public void Stage(StageEvent stage)
    {
        Write(JsonSerializer.Serialize(new StageLine(stage.Image, stage.Stage, stage.Signature, stage.State.Display().Trim('[', ']'), stage.Detail)
        {
            Reason = stage.Reason is { } reason ? new ReasonLine(reason.Kind, reason.Details) : null,
            Note = stage.Note,
        }, JsonLines.Default.StageLine));
    }

    public void Removal(RemovalEvent removal) => Write(JsonSerializer.Serialize(
        new RemovalLine(removal.Verb.Replace(' ', '_'), removal.Name, removal.Kind, removal.Reason), JsonLines.Default.RemovalLine));

    public void Summary(TransferSummary summary) => Write(JsonSerializer.Serialize(
        new SummaryLine(summary.Direction, summary.DryRun, summary.Stages, summary.DryRun ? null : summary.Bytes, summary.Location,
            summary.DryRun ? null : Math.Round(summary.Elapsed.TotalSeconds, 3)), JsonLines.Default.SummaryLine));

    /// <summary>A dimg that dimg list names.</summary>
    public void Dimg(string? name) => Write(JsonSerializer.Serialize(new DimgLine(name), JsonLines.Default.DimgLine));

    /// <summary>The image of a stage that dimg stage image names.</summary>
    public void StageImage(string? dimg, string stage, string image) =>
        Write(JsonSerializer.Serialize(new StageImageLine(dimg, stage, image), JsonLines.Default.StageImageLine));

    private void Write(string line)
    {
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
        if (!options.Quiet) Error(UrlCredentials.Redact(message));
    }

    public void Warning(string message) => Error($"Warning: {UrlCredentials.Redact(message)}");

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
    [property: JsonPropertyName("detail"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail)
{
    [JsonPropertyName("type"), JsonPropertyOrder(-1)] public string Type => "stage";

    [JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ReasonLine? Reason { get; init; }

    [JsonPropertyName("note"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Note { get; init; }
}

/// <summary>Why a stage is built: <c>{"kind":"instructions","details":["dappfile.yml:14: …"]}</c>.</summary>
internal sealed record ReasonLine(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("details")] IReadOnlyList<string> Details);

internal sealed record RemovalLine(
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Kind,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason)
{
    [JsonPropertyName("type"), JsonPropertyOrder(-1)] public string Type => "removal";
}

internal sealed record SummaryLine(
    [property: JsonPropertyName("direction")] string Direction,
    [property: JsonPropertyName("dry_run")] bool DryRun,
    [property: JsonPropertyName("stages")] int Stages,
    [property: JsonPropertyName("bytes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Bytes,
    [property: JsonPropertyName("location")] string Location,
    [property: JsonPropertyName("seconds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Seconds)
{
    [JsonPropertyName("type"), JsonPropertyOrder(-1)] public string Type => "summary";
}

internal sealed record DimgLine([property: JsonPropertyName("name")] string? Name)
{
    [JsonPropertyName("type"), JsonPropertyOrder(-1)] public string Type => "dimg";
}

internal sealed record StageImageLine(
    [property: JsonPropertyName("dimg")] string? Dimg,
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("image")] string Image)
{
    [JsonPropertyName("type"), JsonPropertyOrder(-1)] public string Type => "stage_image";
}

[JsonSerializable(typeof(StageLine))]
[JsonSerializable(typeof(RemovalLine))]
[JsonSerializable(typeof(SummaryLine))]
[JsonSerializable(typeof(DimgLine))]
[JsonSerializable(typeof(StageImageLine))]
internal sealed partial class JsonLines : JsonSerializerContext;
