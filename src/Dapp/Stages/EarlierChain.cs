using Dapp.Engine;
using Dapp.Reporting;

namespace Dapp.Stages;

/// <summary>A stage of an earlier build, as its image's labels record it.</summary>
public sealed record EarlierStage(string Signature, IReadOnlyDictionary<string, string> Labels)
{
    public string? Name => Labels.GetValueOrDefault(DappLabels.Stage);

    /// <summary>The signature it was built on (empty: a base image; null: not recorded).</summary>
    public string? Parent => Labels.GetValueOrDefault(DappLabels.ParentSignature);

    public StageInputs? Inputs => StageInputs.Decode(Labels);
}

/// <summary>
/// The chain of a dimg's earlier build, from its from stage on: found in the local engine or in REPO
/// (<paramref name="Source"/> says where). <paramref name="Whole"/> is false when only the stages it shares with the
/// current chain are known: what it had after them is not.
/// </summary>
public sealed record EarlierChain(IReadOnlyList<EarlierStage> Stages, string Source, bool Whole)
{
    public EarlierStage? Find(StageName name) => Stages.FirstOrDefault(s => s.Name == name.DappName());

    /// <summary>Whether the earlier build is known up to where a stage of this name would be.</summary>
    public bool Reaches(StageName name, IReadOnlyList<StageName> order)
    {
        if (Whole) return true;
        var positions = order.ToList();
        var at = positions.IndexOf(name);
        return Stages.Any(s => StageNames.Parse(s.Name ?? "") is { } n && positions.IndexOf(n) >= at);
    }
}
