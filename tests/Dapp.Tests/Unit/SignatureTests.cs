using Dapp.Commands;
using Dapp.Config;
using Dapp.Stages;

namespace Dapp.Tests.Unit;

public class SignatureTests
{
    private const string Base = """
        artifact: tools
        from: busybox:1.35
        shell:
          install: echo tool > /tool
        ---
        dimg: app
        from: busybox:1.35
        fromCacheVersion: "1"
        mount:
        - {to: /cache, from: build_dir}
        import:
        - {artifact: tools, add: /tool, to: /usr/bin/tool, after: install}
        shell:
          beforeInstall: echo bi
          install: echo i
          beforeSetup: echo bs
          setup: echo s
        docker:
          CMD: [/bin/sh]
          ENV: {A: "1"}
        """;

    private static IReadOnlyList<ConveyorStage> Stages(string yaml, string dimg = "app")
    {
        var dappfile = DappfileParser.Parse(yaml, "/p/dappfile.yml");
        return For(new ConveyorFactory(dappfile), dappfile.FindDimg(dimg)!).Stages;
    }

    /// <summary>Conveyors without git paths are computed without any I/O.</summary>
    private static Conveyor For(ConveyorFactory factory, ImageConfig image)
    {
        var task = factory.ForAsync(image, default);
        Assert.True(task.IsCompletedSuccessfully);
        return task.Result;
    }

    public static TheoryData<string, string, StageName> Changes => new()
    {
        { "from: busybox:1.35\nfromCacheVersion", "from: busybox:1.36\nfromCacheVersion", StageName.From },
        { "fromCacheVersion: \"1\"", "fromCacheVersion: \"2\"", StageName.From },
        { "{to: /cache, from: build_dir}", "{to: /cache, from: tmp_dir}", StageName.From },
        { "beforeInstall: echo bi", "beforeInstall: echo BI", StageName.BeforeInstall },
        { "install: echo i", "install: [echo i, echo j]", StageName.Install },
        { "  install: echo i", "  install: echo i\n  installCacheVersion: x", StageName.Install },
        { "beforeSetup: echo bs", "beforeSetup: echo BS", StageName.BeforeSetup },
        { "setup: echo s", "setup: echo S", StageName.Setup },
        { "  setup: echo s", "  setup: echo s\n  setupCacheVersion: \"2\"", StageName.Setup },
        { "  setup: echo s", "  setup: echo s\n  cacheVersion: \"2\"", StageName.BeforeInstall },
        { "to: /usr/bin/tool,", "to: /usr/local/bin/tool,", StageName.AfterInstallArtifact },
        { "after: install}", "after: install, owner: app}", StageName.AfterInstallArtifact },
        { "install: echo tool > /tool", "install: echo tool2 > /tool", StageName.AfterInstallArtifact },
        { "ENV: {A: \"1\"}", "ENV: {A: \"2\"}", StageName.DockerInstructions },
        { "CMD: [/bin/sh]", "CMD: [/bin/sh, -c, x]", StageName.DockerInstructions },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void A_change_moves_its_stage_and_every_later_one_and_no_earlier_one(string from, string to, StageName changed)
    {
        Assert.Contains(from, Base);
        var before = Stages(Base);
        var after = Stages(Base.Replace(from, to));
        Assert.Equal(before.Select(s => s.Name), after.Select(s => s.Name));
        var index = before.ToList().FindIndex(s => s.Name == changed);
        Assert.True(index >= 0, $"{changed} is not a stage of the base dappfile");
        for (int i = 0; i < before.Count; i++)
        {
            if (i < index) Assert.Equal(before[i].Signature, after[i].Signature);
            else Assert.NotEqual(before[i].Signature, after[i].Signature);
        }
    }

    [Fact]
    public void Empty_stages_reuse_the_previous_signature_and_a_cache_version_alone_makes_a_stage()
    {
        var dappfile = DappfileParser.Parse("dimg: a\nfrom: busybox\nshell:\n  setupCacheVersion: \"1\"\n", "/p/dappfile.yml");
        var conveyor = For(new ConveyorFactory(dappfile), dappfile.Dimgs[0]);
        Assert.Equal([StageName.From, StageName.Setup], conveyor.Stages.Select(s => s.Name));
        Assert.Equal(conveyor.SignatureOf(StageName.From), conveyor.SignatureOf(StageName.BeforeSetup));
        Assert.Equal(conveyor.SignatureOf(StageName.Setup), conveyor.SignatureOf(StageName.DockerInstructions));
        Assert.Equal(["true"], conveyor.Stages[1].Stage.Work.Commands);
        Assert.Equal(16, conveyor.AllStages.Count);
    }

    [Fact]
    public void Artifact_conveyor_has_the_artifact_order()
    {
        var dappfile = DappfileParser.Parse("artifact: a\nfrom: busybox\nshell:\n  buildArtifact: make\n---\ndimg: d\nfrom: busybox\nimport:\n- {artifact: a, add: /x, after: install}\n", "/p/dappfile.yml");
        var conveyor = For(new ConveyorFactory(dappfile), dappfile.Artifacts[0]);
        Assert.Equal(StageNames.ArtifactOrder, conveyor.AllStages.Select(s => s.Name));
        Assert.Equal([StageName.From, StageName.BuildArtifact], conveyor.Stages.Select(s => s.Name));
    }

    [Fact]
    public void FromDimg_depends_on_the_base_dimgs_last_signature()
    {
        const string yaml = "dimg: base\nfrom: busybox\nshell: {install: echo 1}\n---\ndimg: top\nfromDimg: base\n";
        var top = Stages(yaml, "top");
        var changedTop = Stages(yaml.Replace("echo 1", "echo 2"), "top");
        Assert.NotEqual(top[0].Signature, changedTop[0].Signature);
        var dappfile = DappfileParser.Parse(yaml, "/p/dappfile.yml");
        var factory = new ConveyorFactory(dappfile);
        Assert.Same(For(factory, dappfile.FindDimg("base")!), Assert.Single(For(factory, dappfile.FindDimg("top")!).Dependencies));
    }

    [Fact]
    public void Signature_encoding_is_the_documented_one()
    {
        var builder = new SignatureBuilder(StageName.Install, "abc").Add("commands", ["echo \"hi\"", "make"]).Add("cacheVersion", (string?)null);
        Assert.Equal("dapp-stage-signature/1\nstage=install\nprev=abc\ncommands=[\"echo \\u0022hi\\u0022\",\"make\"]\ncacheVersion=null\n", builder.Text);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(builder.Text))), builder.Compute());
    }

    [Fact]
    public async Task Two_project_names_give_equal_signatures()
    {
        var dir = Path.Combine(TestPaths.RepoRoot, "examples");
        using var a = await DappProject.LoadAsync(new ProjectOptions { Dir = dir, Name = "first-project", Environment = _ => null }, default);
        using var b = await DappProject.LoadAsync(new ProjectOptions { Dir = dir, Name = "Second_Project", Environment = _ => null }, default);
        Assert.NotEqual(a.Name, b.Name);
        Assert.Equal((await a.SelectConveyorsAsync(WithoutGit, default)).SelectMany(c => c.Stages).Select(s => s.Signature),
            (await b.SelectConveyorsAsync(WithoutGit, default)).SelectMany(c => c.Stages).Select(s => s.Signature));
        Assert.NotEqual(a.Stages.ImageName((await a.SelectConveyorsAsync(WithoutGit, default))[0].LastSignature), b.Stages.ImageName((await b.SelectConveyorsAsync(WithoutGit, default))[0].LastSignature));
    }

    /// <summary>
    /// The example dimgs without git paths: git stages depend on the repository and, for the last two, on stage images
    /// present in the engine, which unit tests do not touch (the git stages' signatures are tested in GitStagesTests).
    /// </summary>
    private static readonly string[] WithoutGit = ["backend", "frontend"];

    /// <summary>Pins the signatures of examples/: a change here changes every user's cache and must be deliberate.</summary>
    [Fact]
    public async Task Golden_signatures_of_the_examples()
    {
        using var project = await DappProject.LoadAsync(new ProjectOptions
        {
            Dir = Path.Combine(TestPaths.RepoRoot, "examples"),
            Name = "golden",
            Environment = n => n == "DAPP_EXAMPLE_VERSION" ? "1.0" : null,
        }, default);
        var conveyors = (await project.SelectConveyorsAsync(WithoutGit, default)).ToList();
        foreach (var artifact in project.Dappfile.Artifacts) conveyors.Add(await project.Conveyors.ForAsync(artifact, default));
        var actual = conveyors
            .SelectMany(c => c.Stages.Select(s => $"{c.Image.DisplayName} {s.Name.DappName()} {s.Signature}"))
            .ToList();
        Assert.Equal(GoldenExampleSignatures, actual);
    }

    private static readonly string[] GoldenExampleSignatures =
    [
        "backend from 5f8fc93d01dcd142bb2283c9ad43c603107d1174a97027dbd91650756101968d",
        "backend before_install 5c22cabc1bce7cbb305c7ec92c39837b231bbb5ac188e39e02f0bd734f6178ce",
        "backend install e4b3a7d15ff69284dc878347cc3c5cf2e56970796ae52ec6b523b0a33dde7f7d",
        "backend after_install_artifact 38ced820d248585d35fc50159b5eeb03def670f1b2df63f790aec1ce0b3c0b7f",
        "backend setup 41e3fb0597ac7ba2901a37a120d338138a94ce5867fff4b6dcf2627bcb7ccedc",
        "backend docker_instructions ecf0bfed13e7dfa6a4d7988b07eafa6fa4f0255628eaa0744d93ad8f81f0a39f",
        "frontend from 5f8fc93d01dcd142bb2283c9ad43c603107d1174a97027dbd91650756101968d",
        "frontend before_install 78e01ef7d38026ec26504f5a7fc64db22b515b656e31c625e703ac3e55c22afe",
        "frontend install 35f7d8bf2e1f4a3c7bd949ddc41fe71142339e782361180c45b22665e643f6df",
        "frontend docker_instructions 8d85d5ae47526342e74463a79a747bc084cf440735fe5ce6fa847fce34bea00d",
        "artifact greeting-builder from 5f8fc93d01dcd142bb2283c9ad43c603107d1174a97027dbd91650756101968d",
        "artifact greeting-builder install 5e7f0142966ab8c0d6e19e7b6224b57f36eac7a460df752d70dbe17ce9f34e14",
        "artifact greeting-builder build_artifact bf65545e80afa4c6735d9eca91ae4fbb6a88a13f960b2d9d62e96b38c9042190",
    ];
}
