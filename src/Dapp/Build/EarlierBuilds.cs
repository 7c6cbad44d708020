using Dapp.Engine;
using Dapp.Registry.Model;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Build;

/// <summary>
/// Finds a dimg's earlier build, the chain a rebuild is explained against (docs/commands.md, <c>dapp dimg plan</c>):
/// <list type="bullet">
/// <item>in the local engine, from one listing of the project's stage images: the newest stage made for the dimg
/// (<c>dapp-stage-of</c>) that descends from the last stage of the current chain the engine has, down to its from
/// stage by <c>dapp-stage-parent</c>;</item>
/// <item>in REPO, the newest of the dimg's images there (its tags, at most <see cref="MaxTags"/> read, this branch's
/// first), down through
/// REPO's stages to the first one the current chain shares.</item>
/// </list>
/// The newer of the two is the earlier build. An artifact (no tags of its own) or a fromDimg base not found whole so is
/// found through what is built from it: the stage of its user's earlier build that imports it (or starts from it)
/// records its last signature, and its chain is read down from there (engine, else REPO). Nothing is read until a stage
/// is to be built, and the listing is taken once, before any stage is built, so a build never compares a stage with
/// what it made itself.
/// </summary>
/// <param name="preferredTags">The dimg tags read first in REPO: those of this job's branch (CI's, else git's), then <c>latest</c>.</param>
internal sealed class EarlierBuilds(LocalStagesStorage local, RegistryStagesStorage? remote, IReadOnlyList<string> preferredTags)
{
    public const int MaxTags = 10;

    private readonly Lazy<Task<Dictionary<string, LocalStage>>> _local = new(() => ListAsync(local));
    private readonly Dictionary<string, Task<EarlierChain?>> _chains = [];
    private readonly Lock _lock = new();
    private IReadOnlyList<Conveyor> _conveyors = [];

    /// <summary>The conveyors of the command (with what they are built from): those that import or start from another.</summary>
    public void Know(IReadOnlyList<Conveyor> conveyors) => _conveyors = conveyors;

    private static async Task<Dictionary<string, LocalStage>> ListAsync(LocalStagesStorage local) =>
        (await local.StagesAsync(CancellationToken.None)).GroupBy(s => s.Signature).ToDictionary(g => g.Key, g => g.First());

    public Task<EarlierChain?> FindAsync(Conveyor conveyor, CancellationToken ct)
    {
        lock (_lock)
        {
            if (!_chains.TryGetValue(conveyor.Key, out var chain)) _chains[conveyor.Key] = chain = FindNowAsync(conveyor, ct);
            return chain;
        }
    }

    private async Task<EarlierChain?> FindNowAsync(Conveyor conveyor, CancellationToken ct)
    {
        var stages = await _local.Value.WaitAsync(ct);
        var found = await OwnAsync(conveyor, stages, ct);
        if (found is { Whole: true }) return found;
        return await ThroughUsersAsync(conveyor, stages, ct) ?? found;
    }

    /// <summary>The conveyor's own earlier build: this host's, or its newest dimg image in REPO.</summary>
    private async Task<EarlierChain?> OwnAsync(Conveyor conveyor, Dictionary<string, LocalStage> stages, CancellationToken ct)
    {
        var (localChain, localAt) = await FromLocalAsync(conveyor, stages, ct);
        if (remote is null || conveyor.Image.IsArtifact) return localChain;
        try
        {
            var images = await remote.DimgImagesAsync(conveyor.Image.Name, MaxTags, preferredTags, ct);
            if (images.Count == 0) return localChain;
            var newest = images.MaxBy(i => i.Created);
            if (localChain is { Whole: true } && localAt >= newest.Created) return localChain;
            var where = $"{remote.Location}{(conveyor.Image.Name is null ? "" : "/" + conveyor.Image.Name)}:{newest.Tag}";
            return await WalkAsync(conveyor, newest.Labels, where, stages, ct) ?? localChain;
        }
        catch (RegistryException)
        {
            // The dimg's repository may be closed to these credentials (a registry's per-repository rights): this host's build is what is known.
            return localChain;
        }
    }

    /// <summary>
    /// An artifact's or a base's earlier build through the earlier builds of the conveyors built from it: the last
    /// signature their import or from stage recorded, when that stage is this conveyor's (its <c>dapp-stage-of</c>).
    /// </summary>
    private async Task<EarlierChain?> ThroughUsersAsync(Conveyor conveyor, Dictionary<string, LocalStage> stages, CancellationToken ct)
    {
        foreach (var user in _conveyors.Where(c => c.Dependencies.Contains(conveyor)))
        {
            if (await FindAsync(user, ct) is not { } chain) continue;
            var recorded = chain.Stages.SelectMany(s => s.Inputs?.Inputs ?? [])
                .Where(i => i.Key is "artifact" or "fromDimg" or "fromDimgArtifact").Select(i => i.Values?.FirstOrDefault()).OfType<string>().Distinct();
            foreach (var signature in recorded)
            {
                var labels = await LabelsAsync(signature, stages, ct);
                if (labels?.GetValueOrDefault(DappLabels.StageOf) != conveyor.Key) continue;
                if (await WalkAsync(conveyor, labels, $"{chain.Source}, as {user.Image.DisplayName} used it", stages, ct) is { } found) return found;
            }
        }
        return null;
    }

    private async Task<IReadOnlyDictionary<string, string>?> LabelsAsync(string signature, Dictionary<string, LocalStage> stages, CancellationToken ct)
    {
        if (stages.TryGetValue(signature, out var local)) return local.Labels;
        if (remote is null) return null;
        try
        {
            return await remote.GetLabelsAsync(signature, ct);
        }
        catch (RegistryException)
        {
            return null;
        }
    }

    private async Task<(EarlierChain? Chain, DateTimeOffset Created)> FromLocalAsync(Conveyor conveyor, Dictionary<string, LocalStage> stages, CancellationToken ct)
    {
        var current = conveyor.Stages;
        var anchor = current.Select(s => s.Signature).LastOrDefault(stages.ContainsKey);
        var candidates = stages.Values.Where(s => s.Labels.GetValueOrDefault(DappLabels.StageOf) == conveyor.Key)
            .Where(s => anchor is null || Ancestry(s, stages).Any(a => a.Signature == anchor)).ToList();
        // The last stage of a build's chain is a leaf. The listing gives ages in whole seconds: builds a second apart
        // (a CI job's) are told apart by the engine's own clock of each, read only for those.
        var parents = candidates.Select(s => s.Labels.GetValueOrDefault(DappLabels.ParentSignature)).ToHashSet();
        var leaves = candidates.Where(s => !parents.Contains(s.Signature)).ToList();
        var newest = leaves.Count == 0 ? null : leaves.Where(s => s.Created == leaves.Max(l => l.Created)).ToList();
        var leaf = newest is null ? null : newest.Count == 1 ? newest[0] : await NewestAsync(newest, ct);
        if (leaf is not null)
        {
            var chain = Ancestry(leaf, stages).Reverse().Select(s => new EarlierStage(s.Signature, s.Labels)).ToList();
            // A build that failed made stages up to the one that failed; one that ended made its chain's last stage.
            var whole = leaf.Labels.GetValueOrDefault(DappLabels.Stage) is { } name && name == StageInputs.Decode(leaf.Labels)?.Last;
            return (new EarlierChain(chain, "the local engine", whole), leaf.Created);
        }
        if (anchor is null) return (null, DateTimeOffset.MinValue);
        var shared = Ancestry(stages[anchor], stages).Reverse().Select(s => new EarlierStage(s.Signature, s.Labels)).ToList();
        return (new EarlierChain(shared, "the local engine", Whole: false), stages[anchor].Created);
    }

    private async Task<LocalStage> NewestAsync(IReadOnlyList<LocalStage> stages, CancellationToken ct)
    {
        var created = await Task.WhenAll(stages.Select(async s => (Stage: s, At: (await local.InspectAsync(s.Signature, ct))?.Created ?? DateTime.MinValue)));
        return created.OrderByDescending(c => c.At).ThenBy(c => c.Stage.Signature, StringComparer.Ordinal).First().Stage;
    }

    /// <summary>A stage and those below it, down to its from stage (or as far as the engine has them).</summary>
    private static IEnumerable<LocalStage> Ancestry(LocalStage stage, Dictionary<string, LocalStage> stages)
    {
        for (var at = stage; at is not null;)
        {
            yield return at;
            if (at.Labels.GetValueOrDefault(DappLabels.Stage) == StageName.From.DappName()) yield break;
            at = at.Labels.GetValueOrDefault(DappLabels.ParentSignature) is { Length: > 0 } parent ? stages.GetValueOrDefault(parent) : null;
        }
    }

    /// <summary>The chain below the last stage of a build: its stages read (engine, else REPO) until one the current chain shares (those are known).</summary>
    private async Task<EarlierChain?> WalkAsync(Conveyor conveyor, IReadOnlyDictionary<string, string> dimgLabels, string where,
        Dictionary<string, LocalStage> stages, CancellationToken ct)
    {
        var current = conveyor.Stages;
        var chain = new List<EarlierStage>();
        var labels = dimgLabels;
        for (int depth = 0; depth < StageNames.DimgOrder.Count && labels is not null; depth++)
        {
            var signature = labels.GetValueOrDefault(DappLabels.StageSignature) ?? "";
            var shared = current.Select((s, i) => (s, i)).FirstOrDefault(x => x.s.Signature == signature);
            if (shared.s is not null)
            {
                chain.AddRange(current.Take(shared.i + 1).Reverse().Select(s =>
                    new EarlierStage(s.Signature, new Dictionary<string, string> { [DappLabels.Stage] = s.Name.DappName(), [DappLabels.StageSignature] = s.Signature })));
                break;
            }
            chain.Add(new EarlierStage(signature, labels));
            if (labels.GetValueOrDefault(DappLabels.Stage) == StageName.From.DappName()
                || labels.GetValueOrDefault(DappLabels.ParentSignature) is not { Length: > 0 } parent) break;
            labels = await LabelsAsync(parent, stages, ct);
        }
        chain.Reverse();
        return chain.Count == 0 ? null : new EarlierChain(chain, where, Whole: true);
    }
}
