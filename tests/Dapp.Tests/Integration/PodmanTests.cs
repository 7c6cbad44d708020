namespace Dapp.Tests.Integration;

/// <summary>
/// Podman's API service, the real one, rootful and rootless (<c>scripts/services up --podman --podman-rootless</c>):
/// until dapp supports it, every command that builds or moves stages refuses it with a message saying why, before it
/// makes anything there.
/// </summary>
[Collection(EngineCollection.Name)]
public class PodmanTests
{
    private static async Task<string> PodmanStateAsync(string socket)
    {
        var images = await DockerCli.RunAsync("-H", "unix://" + socket, "images", "-a", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}");
        Assert.True(images.ExitCode == 0, $"no Podman service at {socket}: run scripts/services up --podman --podman-rootless first ({images.Stderr})");
        var containers = await DockerCli.RunAsync("-H", "unix://" + socket, "ps", "-a", "--format", "{{.ID}}");
        return string.Join("\n", images.StdoutLines.Order()) + "\n--\n" + string.Join("\n", containers.StdoutLines.Order());
    }

    [Theory]
    [InlineData("/tmp/dapp-services/podman.sock")]
    [InlineData("/tmp/dapp-services/podman-rootless/podman.sock")]
    public async Task Commands_that_build_or_move_stages_refuse_Podman_and_make_nothing_there(string socket)
    {
        await using var test = new TestProject($"""
            dimg: api
            from: {EngineFixture.BaseImage}
            shell:
              install: echo installed > /installed
            docker:
              CMD: ["/bin/sh"]
            """);
        var before = await PodmanStateAsync(socket);
        Assert.Contains(EngineFixture.BaseImage, before);
        var env = new Dictionary<string, string> { ["DOCKER_HOST"] = "unix://" + socket, ["DAPP_HOME"] = test.HomeDir };
        string[][] commands =
        [
            ["dimg", "build"],
            ["dimg", "bp", "127.0.0.1:5000/podman/refused"],
            ["dimg", "stages", "pull", "127.0.0.1:5000/podman/refused"],
            ["dimg", "stages", "push", "127.0.0.1:5000/podman/refused"],
            ["dimg", "tag", "podman/refused"],
        ];
        foreach (var command in commands)
        {
            var result = await DappCli.RunAsync(test.Dir, env, [.. command, "--name", test.Name]);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains($"The engine at unix://{socket} is Podman (", result.Stderr);
            Assert.Contains("which dapp does not support yet", result.Stderr);
            Assert.DoesNotContain("[BUILD]", result.Stdout);
        }
        Assert.Equal(before, await PodmanStateAsync(socket));
    }
}
