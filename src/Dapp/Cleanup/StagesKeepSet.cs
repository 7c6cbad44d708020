using Dapp.Engine;
namespace Dapp.Cleanup;

/// <summary>One stage in a registry as cleanup sees it: its manifest's digest, its layers (by diff ID), its config's digest, labels and age.</summary>
internal sealed record StoredStage(string Signature, string Digest, IReadOnlyList<string> Layers, string ConfigDigest,
    DateTimeOffset? Created, IReadOnlyDictionary<string, string> Labels, long Bytes);

/// <summary>
/// The stages that dimg images still need (<c>--improper-repo-cache</c>, docs/cleanup.md): the stage each dimg tag
/// names, the chain it is built on as each stage records it (<see cref="DappLabels.ParentSignature"/>), and,
/// recursively, the chains of the artifacts they import (the <c>dapp-artifact-*</c> labels hold the artifact stage's
/// image ID, its config digest). From a stage of an older dapp, which records no parent, the chain goes on to every
/// stage whose layers begin its layers (compared by diff ID, never by compressed blob digest).
/// </summary>
internal static class StagesKeepSet
{
    public static IReadOnlySet<string> Compute(IReadOnlyList<StoredStage> stages, IEnumerable<string> roots)
    {
        var bySignature = stages.ToDictionary(s => s.Signature);
        var byConfig = stages.GroupBy(s => s.ConfigDigest).ToDictionary(g => g.Key, g => g.First());
        var keep = new HashSet<string>();
        var pending = new Queue<string>(roots);
        while (pending.TryDequeue(out var signature))
        {
            if (!bySignature.TryGetValue(signature, out var root) || keep.Contains(signature)) continue;
            foreach (var stage in Chain(root, bySignature, stages))
            {
                if (!keep.Add(stage.Signature) && stage != root) continue;
                foreach (var (key, imageId) in stage.Labels)
                    if (key.StartsWith("dapp-artifact-", StringComparison.Ordinal) && byConfig.TryGetValue(imageId, out var artifact))
                        pending.Enqueue(artifact.Signature);
            }
        }
        return keep;
    }

    /// <summary>The stage and those it is built on, as far as they are stored.</summary>
    private static IEnumerable<StoredStage> Chain(StoredStage root, IReadOnlyDictionary<string, StoredStage> bySignature, IReadOnlyList<StoredStage> stages)
    {
        var seen = new HashSet<string>();
        for (var stage = root; seen.Add(stage.Signature);)
        {
            yield return stage;
            if (!stage.Labels.TryGetValue(DappLabels.ParentSignature, out var parent))
            {
                foreach (var below in stages.Where(s => s.Layers.Count <= stage.Layers.Count && s.Layers.SequenceEqual(stage.Layers.Take(s.Layers.Count))))
                    yield return below;
                yield break;
            }
            if (!bySignature.TryGetValue(parent, out var next)) yield break;
            stage = next;
        }
    }
}
