using Dapp.Reporting;

namespace Dapp.Tests;

/// <summary>Collects what a command reports, for tests to look at.</summary>
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
    public void Removal(RemovalEvent removal) => Info(removal.ToString());
    public void Summary(TransferSummary summary) => Info(summary.ToString());
    public ITransferDisplay BeginTransfers(string verb, int images) => NoTransferDisplay.Instance;
}
