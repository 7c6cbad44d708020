using Dapp.Git;

namespace Dapp.Stages;

/// <summary>
/// g_a_post_setup_patch: collects the accumulated change since the commits the previous stage recorded, and moves
/// (is rebuilt) each time that change grows past another whole MiB, so g_a_latest_patch stays small.
/// </summary>
internal sealed class GitPostSetupPatchStage(IReadOnlyList<GitPath> paths, IReadOnlyDictionary<GitPath, string?> recorded) : Stage
{
    private const long MiB = 1 << 20;

    public override StageName Name => StageName.GAPostSetupPatch;

    public override bool IsEmpty => paths.Count == 0;

    /// <summary>The commit of each git path the previous stage recorded (null: none, or one that no longer exists): what the patch starts from.</summary>
    public IReadOnlyDictionary<GitPath, string?> Recorded => recorded;

    public override void AddInputs(SignatureBuilder signature)
    {
        foreach (var path in paths)
        {
            var size = recorded.GetValueOrDefault(path) is { } from ? path.ChangedBytes(from) : 0;
            signature.Add("patchSizeMiB", [path.Id, (size / MiB).ToString()]);
        }
    }

    public override StageWork Work => StageWork.None with { Git = paths.Select(p => new GitWork(p, IsArchive: false)).ToList() };
}
