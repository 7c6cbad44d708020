using Dapp.Registry.Names;

namespace Dapp.Tests.Unit;

public class DockerNamesTests
{
    [Theory]
    [InlineData("repo")]
    [InlineData("hostname:1234/repo")]
    [InlineData("subdomain.hostname:1234/sub_repo/repo")]
    [InlineData("127.0.0.1:5000/taxi/backend")]
    [InlineData("localhost:5000/dapp-example")]
    [InlineData("a__b/c.d-e")]
    public void Valid_repos(string repo) => Assert.True(DockerNames.IsValidRepo(repo));

    [Theory]
    [InlineData("hostname.ru:6000")]
    [InlineData("hostname:/repo")]
    [InlineData("hostname-")]
    [InlineData("Hostname")]
    [InlineData("")]
    [InlineData("repo/")]
    [InlineData("/repo")]
    public void Invalid_repos(string repo) => Assert.False(DockerNames.IsValidRepo(repo));

    [Theory]
    [InlineData("image:tag.012", true)]
    [InlineData("docker-registry:8000/image:tag", true)]
    [InlineData("image", true)]
    [InlineData("image:", false)]
    [InlineData("image:tag:tag", false)]
    [InlineData("image:-tag", false)]
    [InlineData("image:.tag", false)]
    [InlineData("Image:tag", false)]
    public void Image_names(string name, bool valid) => Assert.Equal(valid, DockerNames.IsValidImageName(name));

    [Fact]
    public void Tags_are_at_most_128_characters()
    {
        Assert.True(DockerNames.IsValidTag(new string('a', 128)));
        Assert.False(DockerNames.IsValidTag(new string('a', 129)));
    }

    [Fact]
    public void Invalid_repo_error_names_the_repo()
    {
        var e = Assert.Throws<DappException>(() => DockerNames.EnsureValidRepo("Hostname"));
        Assert.Contains("'Hostname'", e.Message);
    }
}
