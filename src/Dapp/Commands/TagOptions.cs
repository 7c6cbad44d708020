using Dapp.Config;
using Dapp.Git;
using Dapp.Registry.Names;

namespace Dapp.Commands;

/// <summary>A tag and the scheme recorded in the <c>dapp-tag-scheme</c> label.</summary>
public sealed record DimgTag(string Tag, string Scheme);

/// <summary>The tag options (docs/commands.md); none at all means <c>latest</c>.</summary>
public sealed record TagOptions
{
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyList<string> PlainTags { get; init; } = [];
    public bool Branch { get; init; }
    public bool Commit { get; init; }
    public bool BuildId { get; init; }
    public bool Ci { get; init; }

    public IReadOnlyList<DimgTag> Resolve(WorkTreeRepository? repository, Func<string, string?> env)
    {
        var tags = new List<DimgTag>();
        tags.AddRange(Tags.Select(t => new DimgTag(Slug.Make(t), "custom")));
        foreach (var plain in PlainTags)
        {
            DockerNames.EnsureValidTag(plain, "--tag-plain");
            tags.Add(new DimgTag(plain, "custom"));
        }
        if (Branch)
        {
            var repo = repository ?? throw new DappException("--tag-branch: the work dir is not in a git repository");
            var branch = repo.Branch ?? throw new DappException("--tag-branch: HEAD is detached, there is no current branch");
            tags.Add(new DimgTag(Slug.Make(branch), "git_branch"));
        }
        if (Commit)
        {
            var repo = repository ?? throw new DappException("--tag-commit: the work dir is not in a git repository");
            tags.Add(new DimgTag(repo.HeadCommit ?? throw new DappException("--tag-commit: the repository has no commit"), "git_commit"));
        }
        if (BuildId)
        {
            var id = First(env, "CI_JOB_ID", "CI_BUILD_ID", "TRAVIS_BUILD_NUMBER")
                ?? throw new DappException("--tag-build-id: no CI build id (CI_JOB_ID, CI_BUILD_ID or TRAVIS_BUILD_NUMBER) in the environment");
            tags.Add(new DimgTag(Slug.Make(id), "ci"));
        }
        if (Ci)
        {
            if (First(env, "CI_COMMIT_TAG", "CI_BUILD_TAG", "TRAVIS_TAG") is { } gitTag)
                tags.Add(new DimgTag(Slug.Make(gitTag), "git_tag"));
            else if (First(env, [.. CiBranchVariables]) is { } ciBranch)
                tags.Add(new DimgTag(Slug.Make(ciBranch), "git_branch"));
            else
                throw new DappException("--tag-ci: no CI tag or branch (CI_COMMIT_TAG, CI_COMMIT_REF_NAME, TRAVIS_TAG, TRAVIS_BRANCH) in the environment");
        }
        if (tags.Count == 0) tags.Add(new DimgTag("latest", "custom"));
        foreach (var tag in tags.Where(t => Storage.RegistryStagesStorage.IsStagesTag(t.Tag)))
            throw new DappException($"the tag {tag.Tag} begins like the tags dapp keeps for itself in a repository ({Storage.RegistryStagesStorage.TagPrefix}, "
                + $"{Storage.StageClaims.TagPrefix}, {Storage.RegistryStagesStorage.UploadTagPrefix}: stages, claims, uploads): as a dimg tag it would replace one of them; choose another tag");
        return tags.DistinctBy(t => t.Tag).ToList();
    }

    /// <summary>Where a CI job says the branch it builds: GitLab's, older GitLab's, Travis'.</summary>
    public static readonly IReadOnlyList<string> CiBranchVariables = ["CI_COMMIT_REF_NAME", "CI_BUILD_REF_NAME", "TRAVIS_BRANCH"];

    private static string? First(Func<string, string?> env, params string[] names) =>
        names.Select(env).FirstOrDefault(v => !string.IsNullOrEmpty(v));
}
