using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Build;

/// <summary>
/// Why each stage a command builds (or would build) is built, against the dimg's earlier build (<see cref="EarlierBuilds"/>),
/// and the note a <c>from</c> stage gets when its image's name now names another image.
/// </summary>
internal sealed class RebuildReasons(EarlierBuilds earlier, IDockerEngine engine, ILocalStages local)
{
    /// <summary>The conveyors of the command, with what they are built from (see <see cref="EarlierBuilds.Know"/>).</summary>
    public void Know(IReadOnlyList<Conveyor> conveyors) => earlier.Know(conveyors);

    /// <summary>Why the stage is built; a failure to read the earlier build is said as the reason, never the build's failure.</summary>
    public async Task<RebuildReason> ForAsync(Conveyor conveyor, ConveyorStage stage, CancellationToken ct)
    {
        try
        {
            return await ExplainAsync(conveyor, stage, ct);
        }
        catch (Exception e) when (e is DappException or IOException or LibGit2Sharp.LibGit2SharpException)
        {
            return new RebuildReason(RebuildReason.Unknown, [$"the earlier build could not be read: {e.Message}"]);
        }
    }

    private async Task<RebuildReason> ExplainAsync(Conveyor conveyor, ConveyorStage stage, CancellationToken ct)
    {
        var chain = await earlier.FindAsync(conveyor, ct);
        var dependencies = new Dictionary<Conveyor, EarlierChain?>(ReferenceEqualityComparer.Instance);
        foreach (var dependency in conveyor.Dependencies) dependencies[dependency] = await earlier.FindAsync(dependency, ct);
        var index = conveyor.Stages.ToList().FindIndex(s => ReferenceEquals(s, stage) || s.Signature == stage.Signature);
        return RebuildExplainer.Explain(conveyor, index, chain, d => RebuildExplainer.WhyChanged(d, dependencies.GetValueOrDefault(d)));
    }

    /// <summary>
    /// When a present from stage was built from another image than its <c>from</c> name names now: both image IDs, and
    /// that nothing rebuilds for it (signatures use the name, as dapp's did) unless fromCacheVersion changes.
    /// </summary>
    public async Task<string?> BaseImageNoteAsync(Conveyor conveyor, ConveyorStage stage, CancellationToken ct)
    {
        if (stage.Name != StageName.From || conveyor.From.BaseImage is null) return null;
        try
        {
            return await BaseImageChangedAsync(conveyor, stage, ct);
        }
        catch (DappException)
        {
            // A note is extra: an engine that cannot answer an inspect fails the command where it matters, not here.
            return null;
        }
    }

    private async Task<string?> BaseImageChangedAsync(Conveyor conveyor, ConveyorStage stage, CancellationToken ct)
    {
        var name = conveyor.From.BaseImage!;
        if (StageInputs.Decode((await local.InspectAsync(stage.Signature, ct))?.Config?.Labels?.AsReadOnly())?.Base is not { } built) return null;
        if (await engine.InspectImageAsync(name, ct) is not { } now || now.ID == built.Id) return null;
        return $"{name} is now {now.ID}, the stages were built from {built.Id}: nothing rebuilds (signatures use the image's name); change fromCacheVersion to build on the new image";
    }
}
