using Dapp.Tests.Integration.Git;

namespace Dapp.Tests.Integration;

/// <summary>
/// Remote git paths in private repositories (docs/dappfile.md): over SSH with --ssh-key, over HTTP with Basic auth
/// (a token in the URL, or ~/.git-credentials), each built on a fresh host; secrets never in any output.
/// </summary>
[Collection(EngineCollection.Name)]
public class PrivateGitTests
{
    private const string Password = "s3cret-token-5f2c";

    /// <summary>A bare repository <c>lib.git</c> under <paramref name="root"/> with <c>lib.txt</c>.</summary>
    private static async Task<string> MakeRepositoryAsync(string root, string content)
    {
        var work = await GitRepo.InitAsync(Path.Combine(root, "work"), branch: "main");
        work.Write("lib.txt", content);
        await work.CommitAsync("lib");
        var bare = Path.Combine(root, "lib.git");
        Assert.Equal(0, (await Tool.RunAsync("/usr/bin/git", "clone", "-q", "--bare", work.Dir, bare)).ExitCode);
        return bare;
    }

    private static string Dappfile(string url) => $"""
        dimg: app
        from: dapp-examples/busybox:1.35
        git:
        - url: {url}
          add: /
          to: /lib
        shell:
          setup: cat /lib/lib.txt > /copied
        """;

    private static async Task<CliResult> BuildOnAsync(FreshEngine host, TestProject test, Dictionary<string, string>? env, params string[] args)
    {
        var environment = host.Environment(test);
        foreach (var (k, v) in env ?? []) environment[k] = v;
        return await DappCli.RunAsync(test.Dir, environment, ["dimg", "build", .. args, "--name", test.Name]);
    }

    /// <summary>/copied in the dimg's image (every command reads the git paths: it takes the same credentials).</summary>
    private static async Task<string> CopiedAsync(FreshEngine host, TestProject test, params string[] args)
    {
        var stageImage = await DappCli.RunAsync(test.Dir, host.Environment(test), ["dimg", "stage", "image", .. args, "--name", test.Name]);
        Assert.True(stageImage.ExitCode == 0, stageImage.Stderr);
        var image = stageImage.Stdout.Trim();
        return (await DockerCli.RunAsync("-H", host.Host, "run", "--rm", "--network=none", "--entrypoint", "cat", image, "/copied")).Stdout.Trim();
    }

    [Fact]
    public async Task A_repository_over_SSH_builds_on_a_fresh_host_with_its_key_and_a_wrong_key_is_a_clear_error()
    {
        var root = Directory.CreateTempSubdirectory("dapp-private-ssh-").FullName;
        try
        {
            var bare = await MakeRepositoryAsync(root, "over ssh");
            var key = await SshServer.NewKeyAsync(root);
            var wrong = await SshServer.NewKeyAsync(root);
            await using var sshd = await SshServer.StartAsync(key + ".pub");
            await using var test = new TestProject(Dappfile(sshd.Url(bare)));
            await using var host = await FreshEngine.StartAsync();
            await host.LoadBaseImageAsync();

            var refused = await BuildOnAsync(host, test, null, "--ssh-key", wrong);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains($"git {sshd.Url(bare)}", refused.Stderr);
            Assert.Contains("Permission denied (publickey)", refused.Stderr);
            Assert.DoesNotContain("   at ", refused.Stderr);

            var built = await BuildOnAsync(host, test, null, "--ssh-key", key);
            Assert.True(built.ExitCode == 0, built.Stderr + built.Stdout);
            Assert.Equal("over ssh", await CopiedAsync(host, test, "--ssh-key", key));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_repository_over_HTTP_with_Basic_auth_builds_with_a_token_in_the_URL_or_git_credentials_and_no_secret_shows()
    {
        var root = Directory.CreateTempSubdirectory("dapp-private-http-").FullName;
        try
        {
            await MakeRepositoryAsync(root, "over http");
            await using var server = new GitHttpServer(root, "ci", Password);
            await using var host = await FreshEngine.StartAsync();
            await host.LoadBaseImageAsync();

            // A token in the URL: it works, and shows nowhere (the signature does not hold it either).
            await using var test = new TestProject(Dappfile(server.Url("lib.git", $"ci:{Password}")));
            var withToken = await BuildOnAsync(host, test, null);
            Assert.True(withToken.ExitCode == 0, withToken.Stderr + withToken.Stdout);
            Assert.DoesNotContain(Password, withToken.Stdout + withToken.Stderr);
            Assert.Equal("over http", await CopiedAsync(host, test));

            // A wrong token: a clear error without it.
            test.WriteDappfile(Dappfile(server.Url("lib.git", "ci:wrong-token-77")));
            var wrong = await BuildOnAsync(host, test, null);
            Assert.Equal(1, wrong.ExitCode);
            Assert.Contains($"git {server.Url("lib.git")}", wrong.Stderr);
            Assert.DoesNotContain("wrong-token-77", wrong.Stdout + wrong.Stderr);

            // ~/.git-credentials instead of the URL: the same stages (the token was never part of a signature).
            var home = Path.Combine(root, "home");
            Directory.CreateDirectory(home);
            File.WriteAllText(Path.Combine(home, ".git-credentials"), $"http://ci:{Password}@127.0.0.1:{server.Port}\n");
            test.WriteDappfile(Dappfile(server.Url("lib.git")));
            var stored = await BuildOnAsync(host, test, new() { ["HOME"] = home });
            Assert.True(stored.ExitCode == 0, stored.Stderr + stored.Stdout);
            Assert.DoesNotContain(stored.StdoutLines, l => l.EndsWith("[BUILD]"));
            Assert.DoesNotContain(Password, stored.Stdout + stored.Stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
