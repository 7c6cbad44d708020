namespace Dapp.Tests.Integration;

/// <summary>
/// Hostile values in every dappfile field that reaches a shell command (git and import <c>to</c>, git file names that
/// a patch deletes, owner and group) are quoted or refused: none of them runs.
/// </summary>
[Collection(EngineCollection.Name)]
public class ShellInjectionTests
{
    [Fact]
    public async Task Hostile_paths_and_file_names_are_quoted_and_run_nothing()
    {
        await using var test = new TestProject("");
        var repo = await GitRepo.InitAsync(test.Dir);
        repo.Write("src/a$(touch /inj-deleted)b", "to be deleted");
        repo.Write("src/keep", "kept");
        test.WriteDappfile($"""
            artifact: tools
            from: {EngineFixture.BaseImage}
            shell:
              install: mkdir -p /out && echo tool > /out/tool
            ---
            dimg: app
            from: {EngineFixture.BaseImage}
            git:
            - add: /src
              to: "/app $(touch /inj-git-to); '; touch /inj-git-quote; '"
              owner: app
              group: "1000"
            import:
            - artifact: tools
              add: /out
              to: "/imp'; touch /inj-import-to; echo '"
              owner: app
              after: install
            shell:
              install: echo install
            """);
        await repo.CommitAsync("files with hostile names");
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "build")).ExitCode);
        File.Delete(Path.Combine(test.Dir, "src/a$(touch /inj-deleted)b"));
        await repo.CommitAsync("delete the hostile file: the patch removes it with a shell command");
        var rebuild = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(rebuild.ExitCode == 0, rebuild.Stderr);

        using var project = await test.LoadAsync();
        var app = (await project.SelectConveyorsAsync(["app"], default))[0];
        var image = project.Stages.ImageName(app.LastSignature);
        Assert.Equal("", await DockerCli.ShellAsync(image, "ls / | grep inj || true"));
        Assert.Equal("kept", await DockerCli.ShellAsync(image, "cat \"/app \\$(touch /inj-git-to); '; touch /inj-git-quote; '/keep\""));
        Assert.Equal("", await DockerCli.ShellAsync(image, "ls \"/app \\$(touch /inj-git-to); '; touch /inj-git-quote; '/\" | grep 'a\\$' || true"));
        Assert.Equal("tool", await DockerCli.ShellAsync(image, "cat \"/imp'; touch /inj-import-to; echo '/tool\""));
    }
}
