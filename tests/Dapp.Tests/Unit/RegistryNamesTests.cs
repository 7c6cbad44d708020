using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Tests.Unit;

public class RegistryNamesTests
{
    [Theory]
    [InlineData("alpine", "docker.io", "library/alpine", "latest", null)]
    [InlineData("flant/dapp:0.36", "docker.io", "flant/dapp", "0.36", null)]
    [InlineData("docker.io/library/alpine:3.7", "docker.io", "library/alpine", "3.7", null)]
    [InlineData("index.docker.io/flant/dapp", "docker.io", "flant/dapp", "latest", null)]
    [InlineData("localhost/app", "localhost", "app", "latest", null)]
    [InlineData("localhost:5000/app:v1", "localhost:5000", "app", "v1", null)]
    [InlineData("127.0.0.1:5000/taxi/backend:dimgstage-abc", "127.0.0.1:5000", "taxi/backend", "dimgstage-abc", null)]
    [InlineData("registry.example.com/a/b/c", "registry.example.com", "a/b/c", "latest", null)]
    [InlineData("alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000", "docker.io", "library/alpine", null, "sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("host:1/app:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111", "host:1", "app", "v1", "sha256:1111111111111111111111111111111111111111111111111111111111111111")]
    public void References_are_parsed_with_docker_hub_defaults(string input, string registry, string repository, string? tag, string? digest)
    {
        var reference = ImageReference.Parse(input);
        Assert.Equal((registry, repository, tag, digest), (reference.Repository.Registry, reference.Repository.Repository, reference.Tag, reference.Digest));
    }

    [Fact]
    public void Docker_hub_is_served_by_its_api_host_and_others_by_themselves()
    {
        Assert.Equal("registry-1.docker.io", RepositoryName.Parse("alpine").ApiHost);
        Assert.Equal("127.0.0.1:5000", RepositoryName.Parse("127.0.0.1:5000/x").ApiHost);
        Assert.Equal("127.0.0.1:5000/taxi/backend:v1", ImageReference.Parse("127.0.0.1:5000/taxi/backend:v1").ToString());
    }

    [Theory]
    [InlineData("Alpine")]
    [InlineData("alpine:")]
    [InlineData("alpine:-x")]
    [InlineData("alpine@sha256:abc")]
    [InlineData("hostname:/repo")]
    [InlineData("repo//x")]
    public void Invalid_references_are_errors_naming_them(string input)
    {
        var e = Assert.ThrowsAny<DappException>(() => ImageReference.Parse(input));
        Assert.Contains($"'{input.Split('@')[0].Split(':')[0]}", e.Message);
    }

    [Fact]
    public void Bearer_challenge_is_parsed()
    {
        var c = AuthChallenge.Parse("Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:a/b:pull,push\",error=\"invalid_token\"")!;
        Assert.True(c.IsBearer);
        Assert.Equal(("https://auth.example.com/token", "registry.example.com", "repository:a/b:pull,push"), (c.Realm, c.Service, c.Scope));
        Assert.Equal("invalid_token", c.Parameters["error"]);
    }

    [Fact]
    public void Basic_challenge_unquoted_values_and_escapes_are_parsed()
    {
        var basic = AuthChallenge.Parse("Basic realm=\"basic-realm\"")!;
        Assert.True(basic.IsBasic);
        Assert.Equal("basic-realm", basic.Realm);
        var odd = AuthChallenge.Parse("bearer realm=https://a/t, service=s , scope=\"x\\\"y\"")!;
        Assert.True(odd.IsBearer);
        Assert.Equal(("https://a/t", "s", "x\"y"), (odd.Realm, odd.Service, odd.Scope));
        Assert.Null(AuthChallenge.Parse(""));
    }

    [Fact]
    public void Credentials_never_print_their_secret() =>
        Assert.DoesNotContain("hunter2", new RegistryCredential("alice", "hunter2").ToString());
}

public class RegistrySchemeTests
{
    private static Uri Base(string repository, RegistryClientOptions options) =>
        new RegistryTransport(options.WithEnvironmentDefaults()).BaseUri(RepositoryName.Parse(repository));

    [Theory]
    [InlineData("127.0.0.1:5000/app", "http://127.0.0.1:5000/")]
    [InlineData("localhost:5000/app", "http://localhost:5000/")]
    [InlineData("127.8.9.10/app", "http://127.8.9.10/")]
    [InlineData("registry.example.com/app", "https://registry.example.com/")]
    [InlineData("alpine", "https://registry-1.docker.io/")]
    public void Loopback_registries_use_http_and_others_https(string repository, string expected) =>
        Assert.Equal(expected, Base(repository, new RegistryClientOptions { Environment = _ => null }).ToString());

    [Fact]
    public void Insecure_registries_use_http()
    {
        Assert.Equal("http://registry.example.com:5000/",
            Base("registry.example.com:5000/app", new RegistryClientOptions { InsecureRegistries = ["registry.example.com:5000"], Environment = _ => null }).ToString());
        Assert.Equal("http://registry.example.com/",
            Base("registry.example.com/app", new RegistryClientOptions { Environment = n => n == "DAPP_INSECURE_REGISTRY" ? "1" : null }).ToString());
    }
}

public class RepoArgumentTests
{
    [Fact]
    public void A_repo_argument_keeps_its_spelling_for_names_and_compares_by_its_canonical_name()
    {
        var given = RepositoryName.FromArgument("myapp");
        Assert.Equal("myapp", given.Written);
        Assert.Equal("docker.io/library/myapp", given.ToString());
        Assert.Equal(RepositoryName.Parse("docker.io/library/myapp"), given);
        Assert.Equal(RepositoryName.Parse("docker.io/library/myapp").GetHashCode(), given.GetHashCode());
        Assert.Equal("127.0.0.1:5000/x", RepositoryName.Parse("127.0.0.1:5000/x").Written);
    }

    [Theory]
    [InlineData("UPPER/case", "expected [HOST[:PORT]/]NAME")]
    [InlineData("127.0.0.1:99999/x", "the port must be a number from 1 to 65535")]
    [InlineData("repo:tag", "expected [HOST[:PORT]/]NAME")]
    public void A_bad_repo_argument_is_refused_naming_REPO(string repo, string reason)
    {
        var e = Assert.Throws<DappException>(() => RepositoryName.FromArgument(repo));
        Assert.StartsWith($"Invalid REPO '{repo}': ", e.Message);
        Assert.Contains(reason, e.Message);
    }
}
