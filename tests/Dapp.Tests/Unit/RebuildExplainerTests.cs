using Dapp.Config;
using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Stages;

namespace Dapp.Tests.Unit;

/// <summary>
/// Why a stage is built: a dappfile's conveyor compared with an earlier build's chain, whose stage images record what
/// StageImageBuilder records (name, signature, parent, inputs).
/// </summary>
public class RebuildExplainerTests
{
    private const string Earlier = """
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
          install:
          - echo one
          - echo two
          - echo three
          beforeSetup: echo bs
          setup: echo s
        docker:
          CMD: [/bin/sh]
          ENV: {A: "1"}
        """;

    private static Dictionary<string, Conveyor> Conveyors(string yaml)
    {
        var dappfile = DappfileParser.Parse(yaml, "dappfile.yml");
        var factory = new ConveyorFactory(dappfile);
        return new Dictionary<string, Conveyor>
        {
            ["app"] = factory.ForAsync(dappfile.FindDimg("app")!, default).Result,
            ["tools"] = factory.ForAsync(dappfile.FindArtifact("tools")!, default).Result,
        };
    }

    /// <summary>The chain as its stage images would record it.</summary>
    internal static EarlierChain Recorded(Conveyor conveyor, Func<ConveyorStage, string?>? inputs = null) => new(
        conveyor.Stages.Select((s, i) => new EarlierStage(s.Signature, new Dictionary<string, string>
        {
            [DappLabels.Stage] = s.Name.DappName(),
            [DappLabels.StageSignature] = s.Signature,
            [DappLabels.ParentSignature] = conveyor.ParentSignature(i) ?? "",
            [StageInputs.Label] = inputs is null ? StageInputs.Of(s.Inputs, last: conveyor.Stages[^1].Name.DappName()).Encode() : inputs(s) ?? "",
        })).ToList(), "the local engine", Whole: true);

    /// <summary>Each stage of <paramref name="changed"/>'s app that the earlier build lacks, with why.</summary>
    private static List<(StageName Stage, RebuildReason Reason)> Explain(string changed)
    {
        var before = Conveyors(Earlier);
        var now = Conveyors(changed);
        var chains = before.ToDictionary(kv => kv.Key, kv => Recorded(kv.Value));
        var app = now["app"];
        string? WhyChanged(Conveyor c) => RebuildExplainer.WhyChanged(c, chains[c.Image.Name!]);
        var known = chains["app"].Stages.Select(s => s.Signature).ToHashSet();
        return app.Stages.Select((s, i) => (s, i)).Where(x => !known.Contains(x.s.Signature))
            .Select(x => (x.s.Name, RebuildExplainer.Explain(app, x.i, chains["app"], WhyChanged))).ToList();
    }

    public static TheoryData<string, string, StageName, string, string> Changes => new()
    {
        { "from: busybox:1.35\nfromCacheVersion", "from: busybox:1.36\nfromCacheVersion", StageName.From, RebuildReason.BaseImage, "dappfile.yml:7: from \"busybox:1.35\" -> \"busybox:1.36\"" },
        { "fromCacheVersion: \"1\"", "fromCacheVersion: \"2\"", StageName.From, RebuildReason.CacheVersion, "fromCacheVersion \"1\" -> \"2\"" },
        { "{to: /cache, from: build_dir}", "{to: /cache, from: tmp_dir}", StageName.From, RebuildReason.Mounts, "dappfile.yml:10: mount [\"/cache\", \"BuildDir\", \"\"] -> [\"/cache\", \"TmpDir\", \"\"]" },
        { "- echo two", "- echo TWO", StageName.Install, RebuildReason.Instructions, "dappfile.yml:17: \"echo two\" -> \"echo TWO\"" },
        { "- echo two\n", "- echo two\n  - echo two-and-a-half\n", StageName.Install, RebuildReason.Instructions, "dappfile.yml:18: added \"echo two-and-a-half\"" },
        { "  - echo two\n", "", StageName.Install, RebuildReason.Instructions, "removed \"echo two\" (was dappfile.yml:17)" },
        { "  setup: echo s", "  setup: echo s\n  installCacheVersion: x", StageName.Install, RebuildReason.CacheVersion, "stageCacheVersion none -> \"x\"" },
        { "  setup: echo s", "  setup: echo s\n  cacheVersion: \"2\"", StageName.BeforeInstall, RebuildReason.CacheVersion, "cacheVersion none -> \"2\"" },
        { "install: echo tool > /tool", "install: echo tool2 > /tool", StageName.AfterInstallArtifact, RebuildReason.Imports,
            "artifact tools changed: its install changed (instructions: dappfile.yml:4: \"echo tool > /tool\" -> \"echo tool2 > /tool\")" },
        { "to: /usr/bin/tool,", "to: /usr/local/bin/tool,", StageName.AfterInstallArtifact, RebuildReason.Imports, "/usr/local/bin/tool" },
        { "CMD: [/bin/sh]", "CMD: [/bin/bash]", StageName.DockerInstructions, RebuildReason.Instructions, "dappfile.yml:22: CMD [\"/bin/sh\"] -> [\"/bin/bash\"]" },
        { "ENV: {A: \"1\"}", "ENV: {A: \"2\"}", StageName.DockerInstructions, RebuildReason.Instructions, "ENV [\"A=1\"] -> [\"A=2\"]" },
        { "  beforeSetup: echo bs\n", "", StageName.Setup, RebuildReason.Parent, "after_install_artifact changed" },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void The_first_stage_that_changed_gets_the_kind_of_its_input_and_says_what_changed(string from, string to, StageName stage, string kind, string detail)
    {
        Assert.Contains(from, Earlier);
        var reasons = Explain(Earlier.Replace(from, to));
        Assert.NotEmpty(reasons);
        Assert.Equal(stage, reasons[0].Stage);
        Assert.Equal(kind, reasons[0].Reason.Kind);
        Assert.Contains(reasons[0].Reason.Details, d => d.Contains(detail, StringComparison.Ordinal));
    }

    [Fact]
    public void Stages_after_the_changed_one_name_the_stage_below_them()
    {
        var reasons = Explain(Earlier.Replace("- echo two", "- echo TWO"));
        Assert.Equal([StageName.Install, StageName.AfterInstallArtifact, StageName.BeforeSetup, StageName.Setup, StageName.DockerInstructions],
            reasons.Select(r => r.Stage));
        Assert.All(reasons.Skip(1), r => Assert.Equal(RebuildReason.Parent, r.Reason.Kind));
        Assert.Equal(["install changed"], reasons[1].Reason.Details);
        Assert.Equal(["setup changed"], reasons[^1].Reason.Details);
    }

    [Fact]
    public void A_stage_with_both_its_instructions_and_its_parent_changed_is_told_by_its_instructions()
    {
        var reasons = Explain(Earlier.Replace("beforeInstall: echo bi", "beforeInstall: echo BI").Replace("- echo two", "- echo TWO"));
        Assert.Equal((StageName.BeforeInstall, RebuildReason.Instructions), (reasons[0].Stage, reasons[0].Reason.Kind));
        Assert.Equal((StageName.Install, RebuildReason.Instructions), (reasons[1].Stage, reasons[1].Reason.Kind));
    }

    [Fact]
    public void Without_an_earlier_build_or_its_inputs_the_reason_says_so()
    {
        var app = Conveyors(Earlier)["app"];
        Assert.Equal(RebuildReason.FirstBuild, RebuildExplainer.Explain(app, 0, null).Kind);

        var changed = Conveyors(Earlier.Replace("- echo two", "- echo TWO"))["app"];
        var install = changed.Stages.ToList().FindIndex(s => s.Name == StageName.Install);
        var older = Recorded(app, _ => null);
        Assert.Equal(RebuildReason.Unknown, RebuildExplainer.Explain(changed, install, older).Kind);

        var same = RebuildExplainer.Explain(app, install, Recorded(app));
        Assert.Equal(RebuildReason.Missing, same.Kind);

        // Known only up to before_install (a build that stopped there): later stages have no earlier build to compare with.
        var partial = Recorded(app) with { Stages = Recorded(app).Stages.Take(2).ToList(), Whole = false };
        Assert.Equal(RebuildReason.FirstBuild, RebuildExplainer.Explain(changed, install, partial).Kind);
    }

    [Fact]
    public void A_stage_the_earlier_chain_did_not_have_is_told_by_what_it_adds()
    {
        var withoutSetup = Conveyors(Earlier.Replace("  setup: echo s\n", ""));
        var before = Recorded(withoutSetup["app"]);
        var now = Conveyors(Earlier)["app"];
        var setup = now.Stages.ToList().FindIndex(s => s.Name == StageName.Setup);
        var reason = RebuildExplainer.Explain(now, setup, before);
        Assert.Equal(RebuildReason.Instructions, reason.Kind);
        Assert.Equal(["dappfile.yml:20: added \"echo s\""], reason.Details);

        // docker_instructions new in the chain: the directives it has, not those it leaves empty.
        var withoutDocker = Recorded(Conveyors(Earlier.Replace("docker:\n  CMD: [/bin/sh]\n  ENV: {A: \"1\"}", "docker:\n  CMD: [/bin/sh]"))["app"]);
        var docker = RebuildExplainer.Explain(now, now.Stages.Count - 1, withoutDocker);
        Assert.Equal(["dappfile.yml:23: ENV [] -> [\"A=1\"]"], docker.Details);
        var noDocker = Conveyors(Earlier.Replace("docker:\n  CMD: [/bin/sh]\n  ENV: {A: \"1\"}", ""))["app"];
        Assert.NotEqual(now.Stages[^1].Name, noDocker.Stages[^1].Name);
        var added = RebuildExplainer.Explain(now, now.Stages.Count - 1, Recorded(noDocker));
        Assert.Equal((RebuildReason.Instructions, 2), (added.Kind, added.Details.Count));
    }

    [Fact]
    public void Recorded_inputs_stay_small_and_still_tell_a_change_apart()
    {
        var longCommand = "echo " + new string('x', 5000);
        var many = string.Join("\n", Enumerable.Range(0, 500).Select(i => $"  - echo {i}"));
        var yaml = $"dimg: app\nfrom: busybox:1.35\nshell:\n  install:\n  - {longCommand}\n  setup:\n{many}\n";
        var stages = Conveyors(yaml.Replace("dimg: app", "artifact: tools\nfrom: busybox:1.35\n---\ndimg: app"))["app"].Stages;
        foreach (var stage in stages)
        {
            var label = StageInputs.Of(stage.Inputs).Encode();
            Assert.True(label.Length < 2048, $"{stage.Name}: {label.Length} bytes");
            Assert.Equal(label, StageInputs.Decode(new Dictionary<string, string> { [StageInputs.Label] = label })!.Encode());
        }
        var install = StageInputs.Of(stages.Single(s => s.Name == StageName.Install).Inputs).Inputs[0];
        Assert.Contains("… (sha256 ", install.Values![0]);
        Assert.True(StageInputs.Of(stages.Single(s => s.Name == StageName.Setup).Inputs).Inputs[0].IsHashed);

        // One character changed at the end of the long command, one command of the 500: both still differ from before.
        var changed = yaml.Replace("x\n", "y\n").Replace("- echo 499", "- echo 4999");
        var before = Recorded(Conveyors(yaml.Replace("dimg: app", "artifact: tools\nfrom: busybox:1.35\n---\ndimg: app"))["app"]);
        var now = Conveyors(changed.Replace("dimg: app", "artifact: tools\nfrom: busybox:1.35\n---\ndimg: app"))["app"];
        var installIndex = now.Stages.ToList().FindIndex(s => s.Name == StageName.Install);
        Assert.Equal(RebuildReason.Instructions, RebuildExplainer.Explain(now, installIndex, before).Kind);
        var setupReason = RebuildExplainer.Explain(now, installIndex + 1, before);
        Assert.Equal(RebuildReason.Instructions, setupReason.Kind);
        Assert.Contains("500 values", setupReason.Details[0]);
    }

    [Fact]
    public void A_changed_fromDimg_base_is_the_base_image_kind_with_why_the_base_changed_and_ansible_tasks_are_instructions()
    {
        const string yaml = """
            dimg: base
            from: busybox:1.35
            ansible:
              install:
              - name: a file
                copy: {content: one, dest: /one}
            ---
            dimg: app
            fromDimg: base
            shell:
              setup: echo s
            """;
        Conveyor Of(string text, string name)
        {
            var dappfile = DappfileParser.Parse(text, "dappfile.yml");
            return new ConveyorFactory(dappfile).ForAsync(dappfile.FindDimg(name)!, default).Result;
        }
        var changed = yaml.Replace("content: one", "content: two");
        var baseNow = Of(changed, "base");
        var baseBefore = Recorded(Of(yaml, "base"));
        var task = RebuildExplainer.Explain(baseNow, 1, baseBefore);
        Assert.Equal(StageName.Install, baseNow.Stages[1].Name);
        Assert.Equal(RebuildReason.Instructions, task.Kind);
        Assert.StartsWith("dappfile.yml:5: \"", Assert.Single(task.Details));
        Assert.Contains("content: two", task.Details[0]);

        var app = Of(changed, "app");
        string? WhyBase(Conveyor c) => RebuildExplainer.WhyChanged(c, baseBefore);
        var from = RebuildExplainer.Explain(app, 0, Recorded(Of(yaml, "app")), WhyBase);
        Assert.Equal(RebuildReason.BaseImage, from.Kind);
        Assert.StartsWith("fromDimg base changed: its install changed (instructions: dappfile.yml:5: ", Assert.Single(from.Details));
    }
}
