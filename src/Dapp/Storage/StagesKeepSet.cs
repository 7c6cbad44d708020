namespace Dapp.Storage;

/// <summary>One stage in a registry as cleanup sees it: its manifest's digest, its layers (by diff ID), its config's digest, labels and age.</summary>
public sealed record StoredStage(string Signature, string Digest, IReadOnlyList<string> Layers, string ConfigDigest,
    DateTimeOffset? Created, IReadOnlyDictionary<string, string> Labels, long Bytes);

/// <summary>
/// The stages that dimg images still need (<c>--improper-repo-cache</c>, docs/cleanup.md): the stage each dimg tag
/// names, every stage it is built on (a stage whose layers begin its layers, compared by diff ID, never by compressed
/// blob digest), and, recursively, the chains of the
/// artifacts they import (the <c>dapp-artifact-*</c> labels hold the artifact stage's image ID, its config digest).
/// </summary>
public static class StagesKeepSet
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
            foreach (var stage in stages.Where(s => s.Layers.Count <= root.Layers.Count && s.Layers.SequenceEqual(root.Layers.Take(s.Layers.Count))))
            {
                if (!keep.Add(stage.Signature) && stage != root) continue;
                foreach (var (key, imageId) in stage.Labels)
                    if (key.StartsWith("dapp-artifact-", StringComparison.Ordinal) && byConfig.TryGetValue(imageId, out var artifact))
                        pending.Enqueue(artifact.Signature);
            }
            keep.Add(signature);
        }
        return keep;
    }
}
