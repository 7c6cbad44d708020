namespace Dapp.Reporting;

/// <summary>One line of a command's result: a stage of a dimg or artifact and what happened to it.</summary>
public sealed record StageEvent(string Image, string Stage, string Signature, StageState State, string? Detail = null)
{
    /// <summary>Why the stage is built (<c>[BUILD]</c> lines): the kind and what changed since the dimg's earlier build.</summary>
    public RebuildReason? Reason { get; init; }

    /// <summary>Something a person should know about the stage that does not rebuild it (the from image's name now naming another image).</summary>
    public string? Note { get; init; }
}

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

    /// <summary>One thing a cleanup or flush command removes, would remove, or keeps.</summary>
    void Removal(RemovalEvent removal);

    /// <summary>The totals of a stages pull or push.</summary>
    void Summary(TransferSummary summary);

    /// <summary>Starts showing a set of transfers (pulls or pushes of images) until disposed.</summary>
    ITransferDisplay BeginTransfers(string verb, int images);
}

/// <summary>Live progress of image transfers: bytes done and known per image.</summary>
public interface ITransferDisplay : IDisposable
{
    void Update(string image, long doneBytes, long totalBytes);

    void Finished(string image);
}

/// <summary>Shows nothing: for callers that only want the result.</summary>
public sealed class NoTransferDisplay : ITransferDisplay
{
    public static NoTransferDisplay Instance { get; } = new();
    public void Update(string image, long doneBytes, long totalBytes) { }
    public void Finished(string image) { }
    public void Dispose() { }
}
