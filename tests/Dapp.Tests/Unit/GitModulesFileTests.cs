using Dapp.Config;
using Dapp.Git;

namespace Dapp.Tests.Unit;

public class GitModulesFileTests
{
    [Fact]
    public void Sections_keys_quotes_escapes_comments_and_continuations_read_as_git_reads_them()
    {
        var entries = GitModulesFile.Parse("""
            # a comment
            [submodule "vendor/lib"]
            	path = vendor/lib
            	url = ../lib.git ; trailing comment
            [core]
            	path = not/a/submodule
            [Submodule "with \"quotes\""]
            	Path = "dir with spaces/x"
            	URL = "https://host/a#b.git" # quoted hash kept
            [submodule "no-url"]
            	path = lonely
            [submodule "continued"]
            	path = long/\
            path
            	url = git@host:group/x.git
            """);
        Assert.Equal(
            [
                new SubmoduleEntry("vendor/lib", "vendor/lib", "../lib.git"),
                new SubmoduleEntry("with \"quotes\"", "dir with spaces/x", "https://host/a#b.git"),
                new SubmoduleEntry("continued", "long/path", "git@host:group/x.git"),
            ],
            entries);
    }

    [Theory]
    [InlineData("../lib.git", "https://host/group/app.git", "https://host/group/lib.git")]
    [InlineData("../../other/lib.git", "https://host/group/app.git/", "https://host/other/lib.git")]
    [InlineData("./lib.git", "https://host/group/app.git", "https://host/group/app.git/lib.git")]
    [InlineData("../lib.git", "git@host:group/app.git", "git@host:group/lib.git")]
    [InlineData("../lib.git", "git@host:app.git", "git@host:lib.git")]
    [InlineData("../nested", "/tmp/upstreams/lib", "/tmp/upstreams/nested")]
    [InlineData("ssh://git@host/x.git", "https://host/group/app.git", "ssh://git@host/x.git")]
    public void Relative_urls_resolve_against_the_superprojects_url(string url, string superproject, string expected) =>
        Assert.Equal(expected, GitModulesFile.ResolveUrl(url, superproject));

    [Fact]
    public void A_relative_url_above_the_superprojects_is_an_error_naming_both()
    {
        var e = Assert.Throws<DappException>(() => GitModulesFile.ResolveUrl("../../x", "app"));
        Assert.Contains("../../x", e.Message);
    }

    [Theory]
    [InlineData(new string[0], new[] { "lib" }, "lib", false)]
    [InlineData(new string[0], new[] { "lib" }, "lib/inner", false)]
    [InlineData(new string[0], new string[0], "vendor/lib", true)]
    [InlineData(new[] { "src" }, new string[0], "vendor/lib", false)]
    [InlineData(new[] { "vendor/lib/src" }, new string[0], "vendor/lib", true)]
    [InlineData(new[] { "vendor" }, new string[0], "vendor/lib", true)]
    [InlineData(new[] { "**/*.c" }, new string[0], "vendor/lib", true)]
    [InlineData(new[] { "vendor/*/src" }, new string[0], "vendor/lib", true)]
    [InlineData(new[] { "docs/*.md" }, new string[0], "vendor/lib", false)]
    public void A_directory_may_hold_selected_files_unless_excluded_or_beyond_every_include(string[] includes, string[] excludes, string directory, bool expected) =>
        Assert.Equal(expected, new PathFilter(includes, excludes).MayContainSelected(directory));
}
