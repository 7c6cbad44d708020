using Dapp.Commands;
using Dapp.Git;
using Dapp.Registry.Names;
using Dapp.Storage;
using Dapp.Cleanup;
using Dapp.Engine;

namespace Dapp.Tests.Unit;

public class GitHistoryPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static StoredDimgTag Tag(string tag, string? scheme, double daysOld = 1, string? dimg = "app") =>
        new(ImageReference.WithTag(RepositoryName.Parse($"registry.local/project/{dimg ?? "x"}"), tag), dimg, "sha256:" + tag.GetHashCode().ToString("x"),
            scheme is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [DappLabels.TagScheme] = scheme },
            Now - TimeSpan.FromDays(daysOld), 100);

    private static GitRefs Refs(string[]? branches = null, string[]? tags = null, string[]? commits = null) =>
        new((branches ?? []).ToHashSet(), (tags ?? []).ToHashSet(), (commits ?? []).ToHashSet());

    private static IReadOnlyList<string> Doomed(IReadOnlyList<StoredDimgTag> tags, GitRefs refs, GitHistoryLimits? limits = null) =>
        GitHistoryPolicy.Select(tags, refs, limits ?? GitHistoryLimits.Default, Now).Select(d => d.Tag.Tag).Order().ToList();

    [Fact]
    public void A_branch_tag_goes_when_no_branch_of_its_slug_exists()
    {
        // --tag-branch wrote the slug of the branch's name (dapp's: feature/x becomes featurex-<hash>).
        var tags = new[] { Tag("main", "git_branch"), Tag(Dapp.Config.Slug.Make("feature/x"), "git_branch"), Tag("gone", "git_branch") };
        Assert.Equal(["gone"], Doomed(tags, Refs(branches: ["main", "feature/x"])));
    }

    [Fact]
    public void Custom_ci_and_unlabelled_tags_stay_whatever_their_age()
    {
        var tags = new[] { Tag("latest", "custom", 400), Tag("1234", "ci", 400), Tag("old", null, 400) };
        Assert.Empty(Doomed(tags, Refs()));
    }

    [Fact]
    public void A_git_tag_tag_goes_when_the_tag_is_gone_then_beyond_thirty_days_then_beyond_the_ten_newest()
    {
        var names = Enumerable.Range(1, 13).Select(i => $"v1-{i}").ToArray();
        var tags = names.Select((n, i) => Tag(n, "git_tag", daysOld: i)).Append(Tag("v0", "git_tag", 1)).Append(Tag("v-old", "git_tag", 31)).ToList();
        // v0 has no git tag; v-old is past 30 days; of v1-1 (newest) .. v1-13, the 11th to 13th newest are beyond 10.
        Assert.Equal(["v-old", "v0", "v1-11", "v1-12", "v1-13"], Doomed(tags, Refs(tags: [.. names, "v-old"])));
    }

    [Fact]
    public void A_commit_tag_goes_when_the_commit_is_gone_and_the_numbers_come_from_dapps_variables()
    {
        var a = new string('a', 40);
        var b = new string('b', 40);
        var c = new string('c', 40);
        var tags = new[] { Tag(a, "git_commit", 1), Tag(b, "git_commit", 2), Tag(c, "git_commit", 3) };
        Assert.Equal([c], Doomed(tags, Refs(commits: [a, b])));
        var env = new Dictionary<string, string> { ["GIT_COMMITS_LIMIT_POLICY"] = "1", ["GIT_COMMITS_EXPIRY_DATE_PERIOD_POLICY"] = "86400" };
        var limits = GitHistoryLimits.FromEnvironment(k => env.GetValueOrDefault(k));
        // b is older than a day (expired); of what is left, a is the newest and within the limit of one.
        Assert.Equal([b, c], Doomed(tags, Refs(commits: [a, b]), limits));
    }

    [Fact]
    public void Limits_apply_per_dimg()
    {
        var limits = GitHistoryLimits.Default with { TagsLimit = 1 };
        var tags = new[] { Tag("v1", "git_tag", 1, "api"), Tag("v2", "git_tag", 2, "api"), Tag("v1", "git_tag", 1, "web") };
        var doomed = GitHistoryPolicy.Select(tags, Refs(tags: ["v1", "v2"]), limits, Now);
        Assert.Equal("api:v2", Assert.Single(doomed).Tag.Dimg + ":" + doomed[0].Tag.Tag);
    }

    [Fact]
    public void A_policy_variable_that_is_not_a_number_is_an_error_naming_it()
    {
        var e = Assert.Throws<DappException>(() => GitHistoryLimits.FromEnvironment(k => k == "GIT_TAGS_LIMIT_POLICY" ? "ten" : null));
        Assert.Contains("GIT_TAGS_LIMIT_POLICY='ten'", e.Message);
    }
}
