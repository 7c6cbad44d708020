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
    public async Task<RebuildReason> ForAsync(Conveyor conveyor, ConveyorStage stage, CancellationToken ct)
    {
        var chain = await earlier.FindAsync(conveyor, ct);
        var dependencies = new Dictionary<Conveyor, EarlierChain?>(ReferenceEqualityComparer.Instance);
        foreach (var dependency in conveyor.Dependencies) dependencies[dependency] = await earlier.FindAsync(dependency, ct);
        var index = conveyor.Stages.ToList().FindIndex(s => ReferenceEquals(s, stage) || s.Signature == stage.Signature);
        return RebuildExplainer.Explain(conveyor, index, chain, d => WhyChanged(d, dependencies.GetValueOrDefault(d)));
    }

    /// <summary>One level of why another conveyor's last stage changed: its first stage that differs from its earlier build, and why.</summary>
    private static string? WhyChanged(Conveyor conveyor, EarlierChain? chain)
    {
        var stages = conveyor.Stages;
        for (int i = 0; i < stages.Count; i++)
            if (chain?.Find(stages[i].Name)?.Signature != stages[i].Signature)
                return $"its {stages[i].Name.DappName()} changed ({RebuildExplainer.Explain(conveyor, i, chain)})";
        return null;
    }

    /// <summary>
    /// When a present from stage was built from another image than its <c>from</c> name names now: both image IDs, and
    /// that nothing rebuilds for it (signatures use the name, as dapp's did) unless fromCacheVersion changes.
    /// </summary>
    public async Task<string?> BaseImageNoteAsync(Conveyor conveyor, ConveyorStage stage, CancellationToken ct)
    {
        if (stage.Name != StageName.From || conveyor.From.BaseImage is not { } name) return null;
        if (StageInputs.Decode((await local.InspectAsync(stage.Signature, ct))?.Config?.Labels?.AsReadOnly())?.Base is not { } built) return null;
        if (await engine.InspectImageAsync(name, ct) is not { } now || now.ID == built.Id) return null;
        return $"{name} is now {now.ID}, the stages were built from {built.Id}: nothing rebuilds (signatures use the image's name); change fromCacheVersion to build on the new image";
    }
}
