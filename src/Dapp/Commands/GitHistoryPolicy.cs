using System.Globalization;
using Dapp.Config;
using Dapp.Git;
using Dapp.Storage;
using Dapp.Cleanup;

namespace Dapp.Commands;

/// <summary>
/// dapp's numbers for dimg tags of git tags and git commits (docs/cleanup.md): kept at most this long, and at most this
/// many per dimg. dapp's environment variables override them (periods in seconds).
/// </summary>
internal sealed record GitHistoryLimits(TimeSpan TagsExpiry, int TagsLimit, TimeSpan CommitsExpiry, int CommitsLimit)
{
    public static GitHistoryLimits Default { get; } = new(TimeSpan.FromDays(30), 10, TimeSpan.FromDays(30), 50);

    public static GitHistoryLimits FromEnvironment(Func<string, string?> env) => new(
        TimeSpan.FromSeconds(Number(env, "EXPIRY_DATE_PERIOD_POLICY", (long)Default.TagsExpiry.TotalSeconds)),
        (int)Number(env, "GIT_TAGS_LIMIT_POLICY", Default.TagsLimit),
        TimeSpan.FromSeconds(Number(env, "GIT_COMMITS_EXPIRY_DATE_PERIOD_POLICY", (long)Default.CommitsExpiry.TotalSeconds)),
        (int)Number(env, "GIT_COMMITS_LIMIT_POLICY", Default.CommitsLimit));

    private static long Number(Func<string, string?> env, string name, long fallback)
    {
        var value = env(name);
        if (string.IsNullOrEmpty(value)) return fallback;
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= int.MaxValue
            ? number
            : throw new DappException($"{name}='{value}': expected a whole number (a period in seconds, or a count)");
    }
}

/// <summary>A dimg tag that dimg cleanup repo deletes, and why.</summary>
internal sealed record DoomedTag(StoredDimgTag Tag, string Why);

/// <summary>
/// dapp's git-history policy for dimg tags, by each tag's <c>dapp-tag-scheme</c> label: a branch tag goes when no
/// branch of that name (slugified, as <c>--tag-branch</c> made it) exists; a git-tag tag when the tag is gone, then
/// beyond the expiry or the newest N per dimg; a commit tag when the commit is gone, then likewise. <c>custom</c>,
/// <c>ci</c> and unlabelled tags stay.
/// </summary>
internal static class GitHistoryPolicy
{
    public static IReadOnlyList<DoomedTag> Select(IReadOnlyList<StoredDimgTag> tags, GitRefs refs, GitHistoryLimits limits, DateTimeOffset now)
    {
        var branches = refs.Branches.Select(Slug.Make).ToHashSet(StringComparer.Ordinal);
        var gitTags = refs.Tags.Select(Slug.Make).ToHashSet(StringComparer.Ordinal);
        var doomed = new List<DoomedTag>();
        foreach (var tag in tags)
        {
            var why = tag.Scheme switch
            {
                "git_branch" when !branches.Contains(tag.Tag) => $"branch {tag.Tag} no longer exists",
                "git_tag" when !gitTags.Contains(tag.Tag) => $"git tag {tag.Tag} no longer exists",
                "git_commit" when !refs.ExistingCommits.Contains(tag.Tag) => $"commit {tag.Tag} no longer exists",
                _ => null,
            };
            if (why is not null) doomed.Add(new DoomedTag(tag, why));
        }
        var gone = doomed.Select(d => d.Tag).ToHashSet();
        var left = tags.Where(t => !gone.Contains(t)).ToList();
        doomed.AddRange(ByAgeAndCount(left, "git_tag", "git-tag", limits.TagsExpiry, "EXPIRY_DATE_PERIOD_POLICY", limits.TagsLimit, "GIT_TAGS_LIMIT_POLICY", now));
        doomed.AddRange(ByAgeAndCount(left, "git_commit", "commit", limits.CommitsExpiry, "GIT_COMMITS_EXPIRY_DATE_PERIOD_POLICY", limits.CommitsLimit, "GIT_COMMITS_LIMIT_POLICY", now));
        return doomed;
    }

    /// <summary>Per dimg, newest first: those older than the expiry go, then those beyond the limit.</summary>
    private static IEnumerable<DoomedTag> ByAgeAndCount(IEnumerable<StoredDimgTag> tags, string scheme, string kind, TimeSpan expiry, string expiryVariable,
        int limit, string limitVariable, DateTimeOffset now)
    {
        foreach (var dimg in tags.Where(t => t.Scheme == scheme).GroupBy(t => t.Dimg))
        {
            var newestFirst = dimg.OrderByDescending(t => t.Created ?? DateTimeOffset.MinValue).ThenBy(t => t.Tag, StringComparer.Ordinal).ToList();
            var fresh = 0;
            foreach (var tag in newestFirst)
            {
                var age = now - (tag.Created ?? DateTimeOffset.MinValue);
                if (age > expiry)
                    yield return new DoomedTag(tag, $"{kind} tag older than {Days(expiry)} ({expiryVariable}): built {StagesCleanupCommand.Age(age)} ago");
                else if (++fresh > limit)
                    yield return new DoomedTag(tag, $"beyond the {limit} newest {kind} tags of {(tag.Dimg ?? "the dimg")} ({limitVariable})");
            }
        }
    }

    private static string Days(TimeSpan span) => span.TotalDays >= 1 && span.TotalDays == Math.Floor(span.TotalDays) ? $"{span.TotalDays:0} days" : $"{span.TotalSeconds:0} s";
}
