using System.Globalization;
using System.Text;
using System.Text.Json;


namespace Dapp.Reporting;

/// <summary>What moved for one stage between the engine and a registry, and how long it took.</summary>
public sealed record StageTransfer(long PulledBytes, long PushedBytes, TimeSpan Elapsed)
{
    public StageTransfer Plus(StageTransfer other) => new(PulledBytes + other.PulledBytes, PushedBytes + other.PushedBytes, Elapsed + other.Elapsed);
}

/// <summary>The registry requests a command sent, by kind (as registries count them).</summary>
public sealed record RequestCounts(long Head, long ManifestGet, long BlobGet, long Put, long Delete, long Other)
{
    public static RequestCounts None { get; } = new(0, 0, 0, 0, 0, 0);

    public long Total => Head + ManifestGet + BlobGet + Put + Delete + Other;

    public RequestCounts Plus(RequestCounts other) => new(Head + other.Head, ManifestGet + other.ManifestGet, BlobGet + other.BlobGet,
        Put + other.Put, Delete + other.Delete, Other + other.Other);
}

/// <summary>One stage in a report: what happened to it (every state it went through, in order), why, and what it cost.</summary>
public sealed record ReportStage(string Dimg, string Stage, string Signature, IReadOnlyList<StageState> States, RebuildReason? Reason, double Seconds,
    long PulledBytes, long PushedBytes)
{
    public StageState State => States[0];

    /// <summary>Where the stage came from: local, REPO, built here, or built by another host (waited for).</summary>
    public string Where => States.Contains(StageState.Build) ? "built here"
        : States.Contains(StageState.Waiting) ? "built by another host, waited for"
        : States.Contains(StageState.Pull) || States.Contains(StageState.InRepo) ? "REPO"
        : "local";
}

/// <summary>
/// <c>--report PATH</c> (docs/json.md): what a command did with each stage and its totals, written when the command ends,
/// whether it succeeded or failed, as JSON or as a short Markdown summary for a CI job's page.
/// </summary>
/// <param name="PulledBytes">All bytes pulled, stage lines or not (a stage fetched for a wait on another host's build has none of its own).</param>
public sealed record RunReport(string Command, string? Error, DateTimeOffset Started, TimeSpan Elapsed, IReadOnlyList<ReportStage> Stages, RequestCounts Requests,
    long PulledBytes, long PushedBytes)
{
    public int Built => Stages.Count(s => s.States.Contains(StageState.Build));
    public int Cached => Stages.Count(s => s.State is StageState.UsingCache or StageState.InRepo);
    public int Pulled => Stages.Count(s => s.PulledBytes > 0 || s.States.Contains(StageState.Pull));
    public int Pushed => Stages.Count(s => s.PushedBytes > 0 || s.States.Contains(StageState.Push));

    /// <summary>Of the stages a build walked (built or found), the share found: null when it built or found none.</summary>
    public double? CacheHitRate => Built + Cached == 0 ? null : Math.Round(Cached / (double)(Built + Cached), 4);

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", 1);
            json.WriteString("command", Command);
            json.WriteString("status", Error is null ? "ok" : "failed");
            if (Error is not null) json.WriteString("error", Error);
            json.WriteString("started", Started.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            json.WriteNumber("seconds", Math.Round(Elapsed.TotalSeconds, 3));
            json.WriteStartArray("stages");
            foreach (var stage in Stages)
            {
                json.WriteStartObject();
                json.WriteString("dimg", stage.Dimg);
                json.WriteString("stage", stage.Stage);
                json.WriteString("signature", stage.Signature);
                json.WriteString("state", Name(stage.State));
                json.WriteStartArray("states");
                foreach (var state in stage.States) json.WriteStringValue(Name(state));
                json.WriteEndArray();
                if (stage.Reason is { } reason)
                {
                    json.WriteStartObject("reason");
                    json.WriteString("kind", reason.Kind);
                    json.WriteStartArray("details");
                    foreach (var detail in reason.Details) json.WriteStringValue(detail);
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
                else json.WriteNull("reason");
                json.WriteNumber("seconds", Math.Round(stage.Seconds, 3));
                json.WriteNumber("pulled_bytes", stage.PulledBytes);
                json.WriteNumber("pushed_bytes", stage.PushedBytes);
                json.WriteString("where", stage.Where);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("totals");
            json.WriteNumber("stages", Stages.Count);
            json.WriteNumber("built", Built);
            json.WriteNumber("cached", Cached);
            json.WriteNumber("pulled", Pulled);
            json.WriteNumber("pushed", Pushed);
            json.WriteNumber("pulled_bytes", PulledBytes);
            json.WriteNumber("pushed_bytes", PushedBytes);
            if (CacheHitRate is { } rate) json.WriteNumber("cache_hit_rate", rate);
            else json.WriteNull("cache_hit_rate");
            json.WriteStartObject("registry_requests");
            json.WriteNumber("HEAD", Requests.Head);
            json.WriteNumber("GET_manifest", Requests.ManifestGet);
            json.WriteNumber("GET_blob", Requests.BlobGet);
            json.WriteNumber("PUT", Requests.Put);
            json.WriteNumber("DELETE", Requests.Delete);
            json.WriteNumber("other", Requests.Other);
            json.WriteNumber("total", Requests.Total);
            json.WriteEndObject();
            json.WriteNumber("seconds", Math.Round(Elapsed.TotalSeconds, 3));
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>A heading, a table of the stages, and the totals: what a CI job page shows.</summary>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append($"### dapp {Command}: {(Error is null ? "ok" : "failed")} in {Elapsed.TotalSeconds:0.0} s\n\n");
        if (Error is not null) text.Append($"**Error:** {Cell(Error)}\n\n");
        if (Stages.Count > 0)
        {
            text.Append("| dimg | stage | signature | state | why | time | pulled | pushed | where |\n");
            text.Append("|---|---|---|---|---|---:|---:|---:|---|\n");
            foreach (var s in Stages)
                text.Append($"| {Cell(s.Dimg)} | {Cell(s.Stage)} | `{s.Signature[..Math.Min(12, s.Signature.Length)]}` | {string.Join(", ", s.States.Select(Name))} | "
                    + $"{(s.Reason is { } r ? Cell(r.ToString()) : "")} | {s.Seconds:0.0} s | {TransferTotals.Format(s.PulledBytes)} | {TransferTotals.Format(s.PushedBytes)} | {s.Where} |\n");
            text.Append('\n');
        }
        text.Append($"**Totals:** {Built} built, {Cached} cached, {Pulled} pulled ({TransferTotals.Format(PulledBytes)}), {Pushed} pushed ({TransferTotals.Format(PushedBytes)})");
        if (CacheHitRate is { } rate) text.Append($", cache hit rate {rate * 100:0}%");
        text.Append($"; registry requests: {Requests.Total} (HEAD {Requests.Head}, GET manifest {Requests.ManifestGet}, GET blob {Requests.BlobGet}, "
            + $"PUT {Requests.Put}, DELETE {Requests.Delete}, other {Requests.Other}).\n");
        return text.ToString();
    }

    private static string Name(StageState state) => state.Display().Trim('[', ']');

    /// <summary>Text in a table cell: pipes escaped, lines joined, Markdown's own characters taken literally.</summary>
    private static string Cell(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text.ReplaceLineEndings(" "))
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '#') builder.Append('\\');
            builder.Append(c);
        }
        return builder.ToString();
    }
}

/// <summary>
/// Passes everything on to the command's reporter and keeps what a <see cref="RunReport"/> needs: each stage line in
/// order (a stage seen again adds its state), and how long each built stage took.
/// </summary>
public sealed class RunRecorder(IReporter inner, TimeProvider? time = null) : IReporter
{
    private readonly Lock _lock = new();
    private readonly List<(StageEvent First, List<StageState> States, RebuildReason? Reason)> _stages = [];
    private readonly Dictionary<(string, string, string), TimeSpan> _built = [];
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly DateTimeOffset _started = (time ?? TimeProvider.System).GetUtcNow();
    private readonly long _clock = (time ?? TimeProvider.System).GetTimestamp();

    public void Stage(StageEvent stage)
    {
        lock (_lock)
        {
            var index = _stages.FindIndex(s => s.First.Image == stage.Image && s.First.Stage == stage.Stage && s.First.Signature == stage.Signature);
            if (index < 0) _stages.Add((stage, [stage.State], stage.Reason));
            else
            {
                var (first, states, reason) = _stages[index];
                states.Add(stage.State);
                _stages[index] = (first, states, reason ?? stage.Reason);
            }
        }
        inner.Stage(stage);
    }

    public void StageBuilt(StageEvent stage, TimeSpan elapsed)
    {
        lock (_lock) _built[(stage.Image, stage.Stage, stage.Signature)] = elapsed;
        inner.StageBuilt(stage, elapsed);
    }

    /// <param name="transfers">What moved per signature (the registries' stages storages of the command).</param>
    public RunReport Report(string command, string? error, IReadOnlyDictionary<string, StageTransfer> transfers, RequestCounts requests)
    {
        lock (_lock)
        {
            // A stage's bytes count once, on its first line (bp lists a pushed stage in its build and in its push).
            var counted = new HashSet<string>();
            var stages = _stages.Select(s =>
            {
                var transfer = counted.Add(s.First.Signature) ? transfers.GetValueOrDefault(s.First.Signature) : null;
                var built = _built.GetValueOrDefault((s.First.Image, s.First.Stage, s.First.Signature));
                return new ReportStage(s.First.Image, s.First.Stage, s.First.Signature, s.States.ToList(), s.Reason,
                    (built + (transfer?.Elapsed ?? TimeSpan.Zero)).TotalSeconds, transfer?.PulledBytes ?? 0, transfer?.PushedBytes ?? 0);
            }).ToList();
            return new RunReport(command, error, _started, _time.GetElapsedTime(_clock), stages, requests,
                transfers.Values.Sum(t => t.PulledBytes), transfers.Values.Sum(t => t.PushedBytes));
        }
    }

    public void BuildOutput(string image, string line) => inner.BuildOutput(image, line);
    public void Info(string message) => inner.Info(message);
    public void Warning(string message) => inner.Warning(message);
    public void Removal(RemovalEvent removal) => inner.Removal(removal);
    public void Summary(TransferSummary summary) => inner.Summary(summary);
    public ITransferDisplay BeginTransfers(string verb, int images) => inner.BeginTransfers(verb, images);
}
