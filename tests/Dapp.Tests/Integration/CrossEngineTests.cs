using Dapp.Stages;

namespace Dapp.Tests.Integration;

/// <summary>
/// Build hosts of both kinds share one stages cache: Docker (the first engine, named explicitly, since a Podman pass
/// of the tests points DOCKER_HOST elsewhere) and Podman's API service, rootful and rootless (<c>scripts/services up
/// --podman --podman-rootless</c>). The same dappfile gives the same signatures on both, and the stages one built
/// are used by the other: in distributed mode, and after <c>stages pull</c>.
/// </summary>
/// <remarks>Not in the engine collection: it runs beside it (most of its time is waiting), since it uses the first
/// engine and the Podman services under project names and a repository of its own: the engine tests cannot see it,
/// nor it them.</remarks>
public class CrossEngineTests
{
    private const string Docker = "unix:///var/run/docker.sock";
    private readonly string _marker = Guid.NewGuid().ToString("N")[..12];
    private readonly string _repo = $"127.0.0.1:5000/cross-engine/{Guid.NewGuid():N}";

    public static TheoryData<string> Podmans => new() { "/tmp/dapp-services/podman.sock", "/tmp/dapp-services/podman-rootless/podman.sock" };

    private static Task<CliResult> OnAsync(string host, TestProject test, string name, params string[] args) =>
        DappCli.RunAsync(test.Dir, new Dictionary<string, string> { ["DOCKER_HOST"] = host, ["DAPP_HOME"] = $"{test.HomeDir}-{name}" }, [.. args, "--name", name]);

    private static List<string> Lines(CliResult result, string state) => result.StdoutLines.Where(l => l.EndsWith(state)).ToList();

    private static string SignatureOf(string line) => line[..line.LastIndexOf(" [", StringComparison.Ordinal)].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];

    /// <summary>
    /// Host <paramref name="first"/> builds and publishes (bp in distributed mode); host <paramref name="second"/>
    /// then builds nothing in distributed mode, and, under another project name (its own stage images), pulls the
    /// stages and builds nothing; the stage images there have the first host's config and files.
    /// </summary>
    private async Task BuildsOnOneAndNothingOnTheOtherAsync(string first, string second)
    {
        await using var test = new TestProject(SharedDappfiles.ApiWebAndBuilder(_marker));
        var (pulledName, distributedName) = (test.Name + "-pulled", test.Name + "-distributed");
        test.AlsoUsed.AddRange([(first, test.Name), (second, distributedName), (second, pulledName)]);

        var built = await OnAsync(first, test, test.Name, "dimg", "bp", "--stages-storage", _repo, _repo);
        Assert.True(built.ExitCode == 0, built.Stderr + built.Stdout);
        var signatures = Lines(built, "[BUILD]").Select(SignatureOf).ToHashSet();
        using (var project = await test.LoadAsync(first))
            Assert.Equal(Conveyor.WithDependencies(await project.SelectConveyorsAsync([], default)).SelectMany(c => c.Stages).Select(s => s.Signature).ToHashSet(), signatures);

        var distributed = await OnAsync(second, test, distributedName, "dimg", "bp", "--stages-storage", _repo, _repo);
        Assert.True(distributed.ExitCode == 0, distributed.Stderr + distributed.Stdout);
        Assert.Empty(Lines(distributed, "[BUILD]"));

        var pull = await OnAsync(second, test, pulledName, "dimg", "stages", "pull", _repo);
        Assert.True(pull.ExitCode == 0, pull.Stderr + pull.Stdout);
        Assert.NotEmpty(Lines(pull, "[PULL]"));
        var build = await OnAsync(second, test, pulledName, "dimg", "build");
        Assert.True(build.ExitCode == 0, build.Stderr + build.Stdout);
        Assert.Empty(Lines(build, "[BUILD]"));
        Assert.Subset(signatures, Lines(build, "[USING CACHE]").Select(SignatureOf).ToHashSet());

        // The same stage, made on one engine and pulled onto the other: its config and its files.
        using var made = await test.LoadAsync(first);
        var api = (await made.SelectConveyorsAsync(["api"], default))[0];
        var image = $"dimgstage-{{0}}:{api.LastSignature}";
        var config = "{{json .Config.Cmd}} {{json .Config.Env}} {{.Config.WorkingDir}} {{.Config.User}} {{json .Config.Entrypoint}} "
                     + "{{index .Config.Labels \"dapp-stage-signature\"}} {{index .Config.Labels \"dapp-stage-inputs\"}}";
        var there = await DockerCli.RunAsync("-H", second, "inspect", "--format", config, string.Format(image, pulledName));
        var here = await DockerCli.RunAsync("-H", first, "inspect", "--format", config, string.Format(image, test.Name));
        Assert.True(there.ExitCode == 0, there.Stderr);
        Assert.Equal(here.Stdout, there.Stdout);
        Assert.Contains(api.LastSignature, there.Stdout);
        Assert.Equal($"setup-1|{_marker}|tool-{_marker}|api",
            await DockerCli.ShellAsyncOn(second, string.Format(image, pulledName), "echo $(cat /app/setup)'|'$(cat /marker)'|'$(cat /opt/tools/tool)'|'$(cat /app/name)"));
    }

    [Theory]
    [MemberData(nameof(Podmans))]
    public Task A_Docker_host_builds_and_pushes_and_a_Podman_host_builds_nothing(string podman) =>
        BuildsOnOneAndNothingOnTheOtherAsync(Docker, "unix://" + podman);

    [Theory]
    [MemberData(nameof(Podmans))]
    public Task A_Podman_host_builds_and_pushes_and_a_Docker_host_builds_nothing(string podman) =>
        BuildsOnOneAndNothingOnTheOtherAsync("unix://" + podman, Docker);
}
