namespace Dapp.Reporting;

/// <summary>One line of a command's result: a stage of a dimg or artifact and what happened to it.</summary>
public sealed record StageEvent(string Image, string Stage, string Signature, StageState State, string? Detail = null);

/// <summary>How library commands tell the user what they do; the CLI renders it.</summary>
public interface IReporter
{
    void Stage(StageEvent stage);

    /// <summary>A stage finished building.</summary>
    void StageBuilt(StageEvent stage, TimeSpan elapsed);

    /// <summary>A line printed by a build command.</summary>
    void BuildOutput(string image, string line);

    void Info(string message);

    void Warning(string message);
}

/// <summary>Collects events; for callers that want the result rather than output.</summary>
public sealed class RecordingReporter : IReporter
{
    private readonly List<StageEvent> _stages = [];
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();

    public IReadOnlyList<StageEvent> Stages { get { lock (_lock) return _stages.ToList(); } }
    public IReadOnlyList<string> Lines { get { lock (_lock) return _lines.ToList(); } }

    public void Stage(StageEvent stage) { lock (_lock) _stages.Add(stage); }
    public void StageBuilt(StageEvent stage, TimeSpan elapsed) { }
    public void BuildOutput(string image, string line) { lock (_lock) _lines.Add(line); }
    public void Info(string message) { lock (_lock) _lines.Add(message); }
    public void Warning(string message) { lock (_lock) _lines.Add(message); }
}
