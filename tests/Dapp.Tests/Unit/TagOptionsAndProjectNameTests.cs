using Dapp.Commands;

namespace Dapp.Tests.Unit;

public class TagOptionsAndProjectNameTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Key == name).Value;

    [Fact]
    public void No_tag_option_means_latest() =>
        Assert.Equal([new DimgTag("latest", "custom")], new TagOptions().Resolve(null, Env()));

    [Fact]
    public void Tags_are_slugified_plain_tags_kept_and_schemes_recorded()
    {
        var tags = new TagOptions { Tags = ["Feature_X", "v1"], PlainTags = ["V1.0_rc"], BuildId = true, Ci = true }
            .Resolve(null, Env(("CI_JOB_ID", "42"), ("CI_COMMIT_REF_NAME", "feature/login")));
        Assert.Equal(
            [new DimgTag(Dapp.Config.Slug.Make("Feature_X"), "custom"), new DimgTag("v1", "custom"), new DimgTag("V1.0_rc", "custom"),
             new DimgTag("42", "ci"), new DimgTag(Dapp.Config.Slug.Make("feature/login"), "git_branch")],
            tags);
    }

    [Fact]
    public void Tag_ci_prefers_the_ci_git_tag()
    {
        var tags = new TagOptions { Ci = true }.Resolve(null, Env(("CI_COMMIT_TAG", "v2.0.1"), ("CI_COMMIT_REF_NAME", "main")));
        Assert.Equal([new DimgTag(Dapp.Config.Slug.Make("v2.0.1"), "git_tag")], tags);
    }

    [Theory]
    [InlineData("--tag-plain", "bad:tag")]
    [InlineData("--tag-build-id", null)]
    [InlineData("--tag-ci", null)]
    [InlineData("--tag-branch", null)]
    [InlineData("--tag-commit", null)]
    public void Tag_options_that_cannot_be_honoured_are_errors_naming_the_option(string option, string? plain)
    {
        var options = option switch
        {
            "--tag-plain" => new TagOptions { PlainTags = [plain!] },
            "--tag-build-id" => new TagOptions { BuildId = true },
            "--tag-ci" => new TagOptions { Ci = true },
            "--tag-branch" => new TagOptions { Branch = true },
            _ => new TagOptions { Commit = true },
        };
        var e = Assert.Throws<DappException>(() => options.Resolve(null, Env()));
        Assert.Contains(option, e.Message);
    }

    [Theory]
    [InlineData("git@gitlab.example.com:group/Taxi_Backend.git", "Taxi_Backend")]
    [InlineData("https://github.com/flant/dapp.git", "dapp")]
    [InlineData("https://github.com/flant/dapp", "dapp")]
    [InlineData("/srv/git/app.git/", "app")]
    public void Project_name_from_remote_url(string url, string expected) => Assert.Equal(expected, ProjectName.FromRemoteUrl(url));

    [Fact]
    public void Project_name_option_wins_and_is_slugified_and_the_dir_name_is_the_fallback()
    {
        Assert.Equal(Dapp.Config.Slug.Make("My_Project"), ProjectName.Resolve("My_Project", "/x/y", null));
        Assert.Equal("work-dir", ProjectName.Resolve(null, "/tmp/work-dir/", null));
    }
}
