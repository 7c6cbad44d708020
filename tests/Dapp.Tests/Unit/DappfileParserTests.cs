using Dapp.Config;

namespace Dapp.Tests.Unit;

public class DappfileParserTests
{
    private static Dappfile Parse(string yaml) => DappfileParser.Parse(yaml, "/project/dappfile.yml");

    private static void AssertError(string yaml, int line, int column, string fragment)
    {
        var e = Assert.Throws<DappfileException>(() => Parse(yaml));
        Assert.Contains(fragment, e.Reason);
        Assert.Equal(("dappfile.yml", line, column), (e.Location.File, e.Location.Line, e.Location.Column));
        Assert.StartsWith($"dappfile.yml:{line}:{column}: ", e.Message);
    }

    [Fact]
    public void Full_dimg_and_artifact_are_read()
    {
        var dappfile = Parse("""
            artifact: builder
            from: alpine:3.7
            fromCacheVersion: "2"
            shell:
              install: make
              buildArtifact: [make install, strip /out/app]
              buildArtifactCacheVersion: "3"
            ---
            dimg: [api, worker]
            from: alpine:3.7
            mount:
            - {to: /var/cache/apk, from: build_dir}
            - {to: /tmp/work, from: tmp_dir}
            - {to: /host, fromPath: /srv/shared}
            import:
            - artifact: builder
              add: /out
              to: /app
              includePaths: [bin]
              excludePaths: ["*.debug"]
              owner: app
              group: app
              before: setup
            shell:
              beforeInstall: apk add curl
              cacheVersion: x
              setupCacheVersion: "1"
            docker:
              CMD: run.sh --flag
              ENTRYPOINT: [/bin/tini, --]
              ENV: {A: "1", B: two}
              LABEL: {team: core}
              EXPOSE: ["80", 443/udp]
              VOLUME: /data
              WORKDIR: /app
              USER: app
              ONBUILD: [RUN true]
            """);
        Assert.Equal(["api", "worker"], dappfile.Dimgs.Select(d => d.Name));
        var artifact = Assert.Single(dappfile.Artifacts);
        Assert.Equal(["make install", "strip /out/app"], artifact.Shell.CommandsOf(UserStage.BuildArtifact));
        Assert.Equal("3", artifact.Shell.CacheVersionOf(UserStage.BuildArtifact));
        Assert.Equal("2", artifact.FromCacheVersion);

        var api = dappfile.Dimgs[0];
        Assert.Equal([MountSource.BuildDir, MountSource.TmpDir, MountSource.HostPath], api.Mounts.Select(m => m.Source));
        Assert.Equal("/srv/shared", api.Mounts[2].FromPath);
        var import = Assert.Single(api.Imports);
        Assert.Equal((ImportPoint.BeforeSetup, "/out", "/app", "app"), (import.Point, import.Add, import.To, import.Owner));
        Assert.Equal(["apk add curl"], api.Shell.CommandsOf(UserStage.BeforeInstall));
        Assert.Equal("x", api.Shell.CacheVersion);
        Assert.Equal(["/bin/sh", "-c", "run.sh --flag"], api.Docker.Cmd);
        Assert.Equal(["/bin/tini", "--"], api.Docker.Entrypoint);
        Assert.Equal(["A", "B"], api.Docker.Env.Select(e => e.Key));
        Assert.Equal(["80", "443/udp"], api.Docker.Expose);
        Assert.Equal(["/data"], api.Docker.Volumes);
        Assert.Equal(("/app", "app"), (api.Docker.Workdir, api.Docker.User));
        Assert.Equal(api.Docker, dappfile.Dimgs[1].Docker);
    }

    [Fact]
    public void Nameless_dimg_and_empty_documents()
    {
        var dappfile = Parse("---\n---\ndimg:\nfrom: alpine\n---\n");
        var dimg = Assert.Single(dappfile.Dimgs);
        Assert.Null(dimg.Name);
        Assert.Equal("(nameless)", dimg.DisplayName);
    }

    [Fact]
    public void Git_paths_are_parsed()
    {
        var dimg = Parse("""
            dimg: app
            from: alpine
            git:
            - add: /src
              to: /app
              includePaths: [lib, "*.rb"]
              stageDependencies: {install: [Gemfile, Gemfile.lock], setup: "config/*"}
            - url: https://example.com/group/lib.git
              branch: stable
              to: /lib
            """).Dimgs[0];
        Assert.Equal(2, dimg.Git.Count);
        Assert.Equal(["Gemfile", "Gemfile.lock"], dimg.Git[0].StageDependencies[UserStage.Install]);
        Assert.Equal("/", dimg.Git[1].Add);
        Assert.True(dimg.Git[1].IsRemote);
    }

    [Fact]
    public void FromCacheVersion_goes_with_fromDimg_as_dapp_accepted_it() =>
        Assert.Equal("2", DappfileParser.Parse("dimg: a\nfrom: alpine\n---\ndimg: b\nfromDimg: a\nfromCacheVersion: 2\n", "dappfile.yml").Dimgs[1].FromCacheVersion);

    [Theory]
    // structure and keys
    [InlineData("dimg: a\nfrom: alpine\nfoo: 1\n", 3, 1, "unknown key 'foo' in a dimg")]
    [InlineData("dimg: a\nfrom: alpine\nfrom: busybox\n", 3, 1, "duplicate key 'from'")]
    [InlineData("from: alpine\n", 1, 1, "must have 'dimg: NAME' or 'artifact: NAME'")]
    [InlineData("dimg: a\nartifact: b\nfrom: alpine\n", 2, 1, "either a dimg or an artifact")]
    [InlineData("- a\n- b\n", 1, 1, "a dappfile document must be a mapping")]
    [InlineData("dimg: a\nfrom: [alpine\n", 3, 1, "invalid YAML")]
    [InlineData("dimg: a\n", 1, 1, "one of 'from', 'fromDimg' or 'fromDimgArtifact' is required")]
    [InlineData("dimg: a\nfrom: alpine\nfromDimg: b\n", 3, 1, "'from' and 'fromDimg' cannot be used together")]
    [InlineData("dimg: a\nfrom: Alpine:3\n", 2, 7, "invalid image name in from")]
    [InlineData("artifact: x\nfrom: alpine\n", 1, 11, "the dappfile has only artifacts")]
    [InlineData("dimg: a\nfrom: alpine\nasLayers: true\n", 3, 1, "asLayers (dapp's experimental build of shell stages as separate image layers) is not supported")]
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- {add: /, to: /app, as: x}\n", 4, 22, "git 'as' (dapp's named git paths for the asLayers build) is not supported")]
    [InlineData("dimg: a\nfrom: alpine\nmount:\n- {to: /x, from: tmp_dir}\n- {to: /x/, from: build_dir}\n", 5, 3, "mount.to /x/ is given twice in a (first at dappfile.yml:4:3)")]
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- {add: /a, to: /app}\n- {add: /b, to: /app/}\n", 5, 3, "git add /b writes to /app/, where git add /a (at dappfile.yml:4:3) writes too")]
    [InlineData("dimg: a\nfrom: alpine\nshell: {install: x}\nansible: {}\n", 4, 1, "'shell' and 'ansible' cannot be used together: an image's stages are built by one of them (shell at dappfile.yml:3:1)")]
    [InlineData("dimg: a\nfrom: alpine\nansible:\n  install: [echo hi]\n", 4, 13, "each task of ansible.install must be a mapping")]
    [InlineData("dimg: a\nfrom: alpine\nansible:\n  install: {shell: x}\n", 4, 12, "ansible.install must be a list")]
    [InlineData("dimg: a\nfrom: alpine\nansible:\n  install: [{}]\n", 4, 13, "a task of ansible.install is empty")]
    [InlineData("dimg: a\nfrom: alpine\nansible:\n  buildArtifact: []\n", 4, 3, "'buildArtifact' is only for artifacts")]
    [InlineData("dimg: a\nfrom: alpine\nansible:\n  instal: []\n", 4, 3, "unknown key 'instal' in ansible")]
    // names
    [InlineData("dimg: a\nfrom: alpine\n---\ndimg: a\nfrom: alpine\n", 4, 7, "duplicate dimg name 'a'")]
    [InlineData("artifact: x\nfrom: alpine\n---\nartifact: x\nfrom: alpine\n", 4, 11, "duplicate artifact name 'x'")]
    [InlineData("dimg:\nfrom: alpine\n---\ndimg: b\nfrom: alpine\n", 1, 6, "nameless dimg is allowed only")]
    [InlineData("dimg: [a, Bad]\nfrom: alpine\n", 1, 11, "invalid dimg name 'Bad'")]
    [InlineData("artifact:\nfrom: alpine\n", 1, 10, "an artifact must have a name")]
    [InlineData("dimg: a\nfromDimg: nope\n", 2, 11, "fromDimg: no dimg 'nope'")]
    [InlineData("dimg: a\nfromDimgArtifact: nope\n", 2, 19, "fromDimgArtifact: no artifact 'nope'")]
    [InlineData("dimg: a\nfromDimg: b\n---\ndimg: b\nfromDimg: a\n", 1, 7, "circular dependency")]
    // shell
    [InlineData("dimg: a\nfrom: alpine\nshell:\n  instal: make\n", 4, 3, "unknown key 'instal' in shell")]
    [InlineData("dimg: a\nfrom: alpine\nshell:\n  buildArtifact: make\n", 4, 3, "'buildArtifact' is only for artifacts")]
    [InlineData("dimg: a\nfrom: alpine\nshell:\n  install: {a: b}\n", 4, 12, "shell.install must be a string or a list of strings")]
    [InlineData("dimg: a\nfrom: alpine\nshell: [a]\n", 3, 8, "shell must be a mapping")]
    // docker
    [InlineData("artifact: a\nfrom: alpine\ndocker: {CMD: x}\n", 3, 1, "unknown key 'docker' in an artifact")]
    [InlineData("dimg: a\nfrom: alpine\ndocker:\n  HEALTHCHECK: x\n", 4, 3, "unknown key 'HEALTHCHECK' in docker")]
    [InlineData("dimg: a\nfrom: alpine\ndocker:\n  ENV: [A=1]\n", 4, 8, "docker.ENV must be a mapping")]
    // git
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- add: /\n", 4, 3, "git.to is required")]
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- to: app\n", 4, 7, "git.to must be an absolute path")]
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- url: https://h/r\n  to: /app\n", 4, 8, "git.url must end with '.git'")]
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- to: /app\n  branch: master\n", 5, 11, "git.branch is only for remote repositories")]
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- url: https://h/r.git\n  to: /app\n  branch: a\n  tag: b\n", 7, 8, "git.branch and git.tag cannot be used together")]
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- to: /app\n  stageDependencies: {beforeInstall: x}\n", 5, 23, "unknown key 'beforeInstall' in git.stageDependencies")]
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- to: /app\n  includePaths: [/abs]\n", 5, 17, "git.includePaths must be relative")]
    [InlineData("dimg: a\nfrom: alpine\ngit:\n- to: /app\n  as: x\n", 5, 3, "git 'as' (dapp's named git paths for the asLayers build) is not supported")]
    // mount
    [InlineData("dimg: a\nfrom: alpine\nmount:\n- from: tmp_dir\n", 4, 3, "mount.to is required")]
    [InlineData("dimg: a\nfrom: alpine\nmount:\n- {to: /x, from: cache}\n", 4, 18, "mount.from must be tmp_dir or build_dir")]
    [InlineData("dimg: a\nfrom: alpine\nmount:\n- {to: /x}\n", 4, 3, "mount needs 'from: tmp_dir|build_dir' or 'fromPath")]
    [InlineData("dimg: a\nfrom: alpine\nmount:\n- {to: /x, from: tmp_dir, fromPath: /y}\n", 4, 37, "mount.from and mount.fromPath cannot be used together")]
    [InlineData("dimg: a\nfrom: alpine\nmount:\n- {to: x, from: tmp_dir}\n", 4, 8, "mount.to must be an absolute path")]
    // import
    [InlineData("dimg: a\nfrom: alpine\nimport:\n- {artifact: nope, add: /x, after: install}\n", 4, 14, "import: no artifact 'nope'")]
    [InlineData("artifact: b\nfrom: alpine\n---\ndimg: a\nfrom: alpine\nimport:\n- {artifact: b, add: /x}\n", 7, 3, "import needs 'before: install|setup' or 'after: install|setup'")]
    [InlineData("artifact: b\nfrom: alpine\n---\ndimg: a\nfrom: alpine\nimport:\n- {artifact: b, add: /x, before: install, after: setup}\n", 7, 50, "one of 'before' and 'after'")]
    [InlineData("artifact: b\nfrom: alpine\n---\ndimg: a\nfrom: alpine\nimport:\n- {artifact: b, add: /x, after: build}\n", 7, 33, "import.after must be install or setup")]
    [InlineData("artifact: b\nfrom: alpine\n---\ndimg: a\nfrom: alpine\nimport:\n- {artifact: b, after: setup}\n", 7, 3, "import.add is required")]
    [InlineData("artifact: b\nfrom: alpine\n---\ndimg: a\nfrom: alpine\nimport:\n- {artifact: b, add: x, after: setup}\n", 7, 22, "import.add must be an absolute path")]
    [InlineData("artifact: b\nfrom: alpine\n---\ndimg: a\nfrom: alpine\nimport:\n- {artifact: b, add: /x, after: setup, before_: x}\n", 7, 40, "unknown key 'before_' in import")]
    [InlineData("artifact: b\nfromDimgArtifact: c\nimport:\n- {artifact: c, add: /x, after: setup}\n---\nartifact: c\nfromDimgArtifact: b\n", 1, 11, "circular dependency")]
    public void Invalid_dappfiles_are_reported_with_their_position(string yaml, int line, int column, string fragment) =>
        AssertError(yaml, line, column, fragment);

    [Fact]
    public async Task Loader_renders_env_and_requires_a_dappfile()
    {
        var dir = Directory.CreateTempSubdirectory("dapp-loader-").FullName;
        try
        {
            var missing = await Assert.ThrowsAsync<DappException>(() => DappfileLoader.LoadAsync(dir, dir, _ => null, default));
            Assert.Contains("No dappfile.yml or dappfile.yaml", missing.Message);
            File.WriteAllText(Path.Combine(dir, "dappfile.yaml"), "dimg: a\nfrom: {{ env \"BASE\" }}\n");
            var dappfile = await DappfileLoader.LoadAsync(dir, dir, n => n == "BASE" ? "busybox:1" : null, default);
            Assert.Equal("busybox:1", dappfile.Dimgs[0].From);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
