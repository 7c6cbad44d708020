using Dapp.Config;

namespace Dapp.Tests.Unit;

public class GlobAndFilterTests
{
    [Theory]
    [InlineData("back*", "backend", true)]
    [InlineData("back*", "frontend", false)]
    [InlineData("*", "a/b", false)]
    [InlineData("**", "a/b", true)]
    [InlineData("?ack", "back", true)]
    [InlineData("[bf]*", "frontend", true)]
    [InlineData("[!bf]*", "frontend", false)]
    [InlineData("a.b", "axb", false)]
    public void Globs(string pattern, string value, bool match) => Assert.Equal(match, Glob.IsMatch(pattern, value));

    [Fact]
    public void Includes_select_paths_under_a_matched_directory_and_the_directories_leading_to_it()
    {
        var filter = new PathFilter(["out", "docs/*.md"], []);
        Assert.True(filter.IsSelected("out"));
        Assert.True(filter.IsSelected("out/a/b.txt"));
        Assert.True(filter.IsSelected("docs"));
        Assert.True(filter.IsSelected("docs/readme.md"));
        Assert.False(filter.IsSelected("docs/readme.txt"));
        Assert.False(filter.IsSelected("tmp/scratch"));
    }

    [Fact]
    public void Excludes_win_over_includes()
    {
        var filter = new PathFilter([], ["tmp", "**/*.log"]);
        Assert.True(filter.IsSelected("out/a"));
        Assert.False(filter.IsSelected("tmp"));
        Assert.False(filter.IsSelected("tmp/x"));
        Assert.False(filter.IsSelected("a/b/c.log"));
    }
}
