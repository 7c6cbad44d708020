using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Build;

/// <summary>Where a walked stage is: in the local engine, in the stages storage, or nowhere.</summary>
internal enum StageSource
{
    Local,
    Storage,
    Missing,
}

/// <summary>The stages a walk reached in one chain, in chain order: the missing ones last, after the stage found, if any.</summary>
internal sealed record ChainPlan(Conveyor Conveyor, IReadOnlyList<(ConveyorStage Stage, StageSource Source)> Walked)
{
    /// <summary>The index in <see cref="Conveyor.Stages"/> of the first stage to build: the missing stages end the chain (the count when none is missing).</summary>
    public int FirstMissing => Conveyor.Stages.Count - Walked.Count(w => w.Source == StageSource.Missing);

    /// <summary>The stage found that the chain goes on from, if any.</summary>
    public (ConveyorStage Stage, StageSource Source)? Found =>
        Walked.Where(w => w.Source != StageSource.Missing).Select(w => ((ConveyorStage, StageSource)?)w).LastOrDefault();
}

/// <summary>
/// Plans which stages of each chain are needed: each chain is walked from its last stage back; a local stage ends the
/// walk, a stage the storage has ends it (unless every stage is wanted), a missing one moves the walk back. The
/// storage is asked in rounds, only about the stages the walks reach, all of a round at once, each signature once;
/// never a listing. What <c>stages pull</c> pulls and what a distributed build builds on.
/// </summary>
internal static class ChainWalk
{
    public static async Task<IReadOnlyList<ChainPlan>> PlanAsync(IReadOnlyList<Conveyor> conveyors, IReadOnlySet<string> local,
        IStagesStorage storage, bool all, CancellationToken ct)
    {
        var present = new HashSet<string>();
        var asked = new HashSet<string>();
        async Task AskAsync(IEnumerable<string> signatures)
        {
            var ask = signatures.Where(s => !local.Contains(s) && asked.Add(s)).ToList();
            if (ask.Count > 0) present.UnionWith(await storage.LookUpAsync(ask, ct));
        }

        if (all) await AskAsync(conveyors.SelectMany(c => c.Stages).Select(s => s.Signature));
        var walks = conveyors.Select(c => (Conveyor: c, Cursor: c.Stages.Count - 1, Walked: new List<(ConveyorStage, StageSource)>())).ToList();
        while (true)
        {
            var active = walks.Where(w => w.Cursor >= 0).ToList();
            if (active.Count == 0) break;
            await AskAsync(active.Select(w => w.Conveyor.Stages[w.Cursor].Signature));
            for (int i = 0; i < walks.Count; i++)
            {
                var (conveyor, cursor, walked) = walks[i];
                if (cursor < 0) continue;
                var stage = conveyor.Stages[cursor];
                var source = local.Contains(stage.Signature) ? StageSource.Local : present.Contains(stage.Signature) ? StageSource.Storage : StageSource.Missing;
                walked.Add((stage, source));
                walks[i] = (conveyor, source != StageSource.Missing && !all ? -1 : cursor - 1, walked);
            }
        }
        return walks.Select(w => { w.Walked.Reverse(); return new ChainPlan(w.Conveyor, w.Walked); }).ToList();
    }
}
