using System.Diagnostics;
using Dapp.Tests.Integration.Git;

namespace Dapp.Tests.Integration;

/// <summary>
/// Remote git paths in private repositories (docs/dappfile.md): over SSH with --ssh-key, over HTTPS with Basic auth
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
    private static async Task<string> CopiedAsync(FreshEngine host, TestProject test, Dictionary<string, string>? env = null, params string[] args)
    {
        var environment = host.Environment(test);
        foreach (var (k, v) in env ?? []) environment[k] = v;
        var stageImage = await DappCli.RunAsync(test.Dir, environment, ["dimg", "stage", "image", .. args, "--name", test.Name]);
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
            Assert.Equal("over ssh", await CopiedAsync(host, test, null, "--ssh-key", key));
            // dimg run reads the git paths too, so it takes the key (its own parser: docker's options pass through).
            var run = await DappCli.RunAsync(test.Dir, host.Environment(test), "dimg", "run", "--ssh-key", key, "--name", test.Name, "--rm", "--network=none", "--", "cat", "/copied");
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal("over ssh", run.Stdout.Trim());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_repository_over_HTTPS_with_Basic_auth_builds_with_a_token_in_the_URL_or_git_credentials_and_no_secret_shows()
    {
        var root = Directory.CreateTempSubdirectory("dapp-private-https-").FullName;
        try
        {
            await MakeRepositoryAsync(root, "over https");
            await using var server = new GitHttpServer(root, "ci", Password, tls: true);
            await using var host = await FreshEngine.StartAsync();
            await host.LoadBaseImageAsync();
            // A private certificate authority, trusted the way git users trust one.
            var trust = new Dictionary<string, string> { ["GIT_SSL_CAINFO"] = server.CaFile! };

            // A token in the URL: it works, and shows nowhere (the signature does not hold it either).
            await using var test = new TestProject(Dappfile(server.Url("lib.git", $"ci:{Password}")));
            var withToken = await BuildOnAsync(host, test, trust);
            Assert.True(withToken.ExitCode == 0, withToken.Stderr + withToken.Stdout);
            Assert.DoesNotContain(Password, withToken.Stdout + withToken.Stderr);
            Assert.Equal("over https", await CopiedAsync(host, test, trust));

            // A server certificate nobody vouches for: git's certificate error, without the token.
            var untrusted = await BuildOnAsync(host, test, null);
            Assert.Equal(1, untrusted.ExitCode);
            Assert.Contains($"git {server.Url("lib.git")}", untrusted.Stderr);
            Assert.Contains("certificate", untrusted.Stderr);
            Assert.DoesNotContain(Password, untrusted.Stdout + untrusted.Stderr);

            // A wrong token: a clear error without it.
            test.WriteDappfile(Dappfile(server.Url("lib.git", "ci:wrong-token-77")));
            var wrong = await BuildOnAsync(host, test, trust);
            Assert.Equal(1, wrong.ExitCode);
            Assert.Contains($"git {server.Url("lib.git")}", wrong.Stderr);
            Assert.DoesNotContain("wrong-token-77", wrong.Stdout + wrong.Stderr);

            // ~/.git-credentials instead of the URL: the same stages (the token was never part of a signature).
            var home = Path.Combine(root, "home");
            Directory.CreateDirectory(home);
            File.WriteAllText(Path.Combine(home, ".git-credentials"), server.Origin($"ci:{Password}") + "\n");
            test.WriteDappfile(Dappfile(server.Url("lib.git")));
            var stored = await BuildOnAsync(host, test, new(trust) { ["HOME"] = home });
            Assert.True(stored.ExitCode == 0, stored.Stderr + stored.Stdout);
            Assert.DoesNotContain(stored.StdoutLines, l => l.EndsWith("[BUILD]"));
            Assert.DoesNotContain(Password, stored.Stdout + stored.Stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// The busybox base with the host's git and ssh and the libraries they load (nothing from the internet): what a build
    /// command needs to clone over SSH.
    /// </summary>
    private static async Task<string> MakeGitSshImageAsync(string root)
    {
        var image = "dapp-test/git-ssh:" + Guid.NewGuid().ToString("N")[..8];
        var tree = Path.Combine(root, "rootfs");
        var files = new List<string> { "/usr/bin/git", "/usr/bin/ssh" };
        var ldd = await Tool.RunAsync("/usr/bin/ldd", "/usr/bin/git", "/usr/bin/ssh");
        files.AddRange(ldd.Stdout.Split('\n').Select(l => l.Trim().Split(' ')).Select(p => p.Length >= 3 && p[1] == "=>" ? p[2] : p[0])
            .Where(f => f.StartsWith('/') && !f.EndsWith(':')).Distinct());
        foreach (var file in files)
        {
            var target = tree + file;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
        // git runs its helpers (index-pack) from its exec path.
        Directory.CreateDirectory(tree + "/usr/lib/git-core");
        File.Copy("/usr/bin/git", tree + "/usr/lib/git-core/git");
        var container = (await DockerCli.RunAsync("create", "dapp-examples/busybox:1.35", "true")).Stdout.Trim();
        try
        {
            Assert.Equal(0, (await DockerCli.RunAsync("cp", tree + "/.", container + ":/")).ExitCode);
            Assert.Equal(0, (await DockerCli.CommitAsync(null, container, image)).ExitCode);
        }
        finally
        {
            await DockerCli.RunAsync("rm", "-f", container);
        }
        return image;
    }

    // Not on rootless Podman here: the tests run dapp as root, the service as another user, who cannot reach the
    // agent's socket root makes (0700; a rootless host runs both as one user; docs/compatibility.md).
    [Fact]
    [Trait("rootless", "unsupported")]
    public async Task Build_commands_clone_over_SSH_through_the_agent_of_ssh_key_or_SSH_AUTH_SOCK_and_no_key_lands_in_an_image()
    {
        var root = Directory.CreateTempSubdirectory("dapp-ssh-agent-").FullName;
        var image = await MakeGitSshImageAsync(root);
        Process? userAgent = null;
        try
        {
            var bare = await MakeRepositoryAsync(root, "cloned in a build");
            var key = await SshServer.NewKeyAsync(root);
            await using var sshd = await SshServer.StartAsync(key + ".pub");
            string Dappfile(string into) => $"""
                dimg: app
                from: {image}
                shell:
                  install: GIT_SSH_COMMAND='ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' git clone -q {sshd.Url(bare)} {into}
                """;
            await using var test = new TestProject(Dappfile("/dep"));
            var env = new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir, ["SSH_AUTH_SOCK"] = "" };
            Task<CliResult> BuildAsync(params string[] args) =>
                DappCli.RunAsync(test.Dir, env, ["dimg", "build", "--network", "host", "--name", test.Name, .. args]);

            var without = await BuildAsync();
            Assert.Equal(1, without.ExitCode);
            Assert.Contains("Permission denied (publickey)", without.Stdout + without.Stderr);

            var withKey = await BuildAsync("--ssh-key", key);
            Assert.True(withKey.ExitCode == 0, withKey.Stderr + withKey.Stdout);
            var stage = (await DappCli.RunAsync(test.Dir, env, "dimg", "stage", "image", "--name", test.Name)).Stdout.Trim();
            Assert.Equal("cloned in a build", await DockerCli.ShellAsync(stage, "cat /dep/lib.txt"));
            // The agent's socket was mounted and its variable set for the build only: neither is in the image.
            var config = (await DockerCli.RunAsync("image", "inspect", "--format", "{{json .Config.Env}}", stage)).Stdout;
            Assert.DoesNotContain("SSH_AUTH_SOCK", config);
            var saved = Path.Combine(root, "saved.tar");
            Assert.Equal(0, (await DockerCli.RunAsync("save", "-o", saved, stage)).ExitCode);
            var privateKey = File.ReadAllText(key).Split('\n')[1];
            Assert.DoesNotContain(privateKey, System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(saved)));

            // The user's own agent, through SSH_AUTH_SOCK, without --ssh-key.
            var socket = Path.Combine(root, "user-agent.sock");
            userAgent = Process.Start(new ProcessStartInfo("ssh-agent", ["-D", "-a", socket]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            while (!File.Exists(socket)) await Task.Delay(20);
            Assert.Equal(0, (await Tool.RunWithEnvironmentAsync("/usr/bin/ssh-add", null, new Dictionary<string, string> { ["SSH_AUTH_SOCK"] = socket }, "-q", key)).ExitCode);
            env["SSH_AUTH_SOCK"] = socket;
            test.WriteDappfile(Dappfile("/dep2"));
            var withUserAgent = await BuildAsync();
            Assert.True(withUserAgent.ExitCode == 0, withUserAgent.Stderr + withUserAgent.Stdout);
        }
        finally
        {
            userAgent?.Kill();
            userAgent?.Dispose();
            await DockerCli.RunAsync("rmi", image);
            Directory.Delete(root, recursive: true);
        }
    }
}
