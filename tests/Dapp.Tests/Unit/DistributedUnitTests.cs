using System.Text;
using System.Text.Json;
using Dapp.Build;
using Dapp.Config;
using Dapp.Registry.Model;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;
using Dapp.Cleanup;
using Dapp.Engine;

namespace Dapp.Tests.Unit;

public class ChainWalkTests
{
    /// <summary>A storage that has some signatures and records every lookup.</summary>
    private sealed class FakeStorage(IEnumerable<string> has) : IStagesStorage
    {
        private readonly HashSet<string> _has = has.ToHashSet();
        public List<IReadOnlyCollection<string>> Rounds { get; } = [];
        public string Location => "fake";
        public Task<IReadOnlySet<string>> LookUpAsync(IReadOnlyCollection<string> signatures, CancellationToken ct)
        {
            Rounds.Add(signatures.ToList());
            return Task.FromResult<IReadOnlySet<string>>(signatures.Where(_has.Contains).ToHashSet());
        }
        public Task<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string signature, CancellationToken ct) => throw new NotSupportedException();
        public Task FetchAsync(IReadOnlyList<string> signatures, ITransferDisplay display, CancellationToken ct) => throw new NotSupportedException();
        public Task<PublishResult> PublishAsync(string signature, string? parent, ITransferDisplay display, CancellationToken ct) => throw new NotSupportedException();
        public Task<bool> SyncLocalCopyAsync(string signature, ITransferDisplay display, CancellationToken ct) => throw new NotSupportedException();
        public Task<bool> TagAsync(string signature, string target, string tagScheme, bool dryRun, CancellationToken ct) => throw new NotSupportedException();
    }

    private static async Task<IReadOnlyList<Conveyor>> ConveyorsAsync()
    {
        var dappfile = DappfileParser.Parse("""
            dimg: a
            from: busybox
            shell:
              install: echo a
              setup: echo a
            ---
            dimg: b
            from: busybox
            shell:
              install: echo a
              setup: echo b
            """, "/p/dappfile.yml");
        var factory = new ConveyorFactory(dappfile);
        return [await factory.ForAsync(dappfile.FindDimg("a")!, default), await factory.ForAsync(dappfile.FindDimg("b")!, default)];
    }

    [Fact]
    public async Task Walks_back_in_rounds_asking_each_signature_once_and_stops_at_the_first_stage_found()
    {
        var conveyors = await ConveyorsAsync();
        var (a, b) = (conveyors[0], conveyors[1]);
        // a: from, install, setup, (no docker) — b shares from and install with a.
        var storage = new FakeStorage([a.SignatureOf(StageName.Install)]);
        var plans = await ChainWalk.PlanAsync(conveyors, new HashSet<string>(), storage, all: false, default);

        Assert.Equal([a.Stages[^1].Signature, b.Stages[^1].Signature], storage.Rounds[0]);
        // Round 2: both walks reach the shared install stage, asked once.
        Assert.Equal([a.SignatureOf(StageName.Install)], storage.Rounds[1]);
        Assert.Equal(2, storage.Rounds.Count);
        foreach (var plan in plans)
        {
            Assert.Equal(plan.Conveyor.Stages.Count - 1, plan.FirstMissing);
            Assert.Equal((plan.Conveyor.SignatureOf(StageName.Install), StageSource.Storage), (plan.Found!.Value.Stage.Signature, plan.Found.Value.Source));
        }
    }

    [Fact]
    public async Task A_local_stage_ends_the_walk_without_asking_and_a_chain_with_nothing_ends_at_zero()
    {
        var conveyors = await ConveyorsAsync();
        var storage = new FakeStorage([]);
        var plans = await ChainWalk.PlanAsync(conveyors, new HashSet<string> { conveyors[0].Stages[^1].Signature }, storage, all: false, default);
        Assert.Equal(conveyors[0].Stages.Count, plans[0].FirstMissing);
        Assert.Equal(StageSource.Local, plans[0].Found!.Value.Source);
        Assert.Equal(0, plans[1].FirstMissing);
        Assert.Null(plans[1].Found);
        Assert.DoesNotContain(storage.Rounds, r => r.Contains(conveyors[0].Stages[^1].Signature));
        Assert.Equal(conveyors[1].Stages.Select(s => s.Signature).Distinct().Count(), storage.Rounds.Sum(r => r.Count));
    }
}

public class RegistryDimgImageTests
{
    private static readonly byte[] StageConfig = Encoding.UTF8.GetBytes(
        """{"architecture":"amd64","created":"2026-11-28T10:00:00.123Z","config":{"Env":["A=1"],"Labels":{"dapp":"p","dapp-dimg":"false","dapp-stage-signature":"abc"}},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created":"2026-11-28T10:00:00Z"}]}""");

    [Fact]
    public void The_dimg_config_is_the_stage_config_with_the_dimg_labels_and_is_the_same_every_time()
    {
        var config = RegistryDimgImages.DimgConfig(StageConfig, "git_branch");
        Assert.Equal(config, RegistryDimgImages.DimgConfig(StageConfig, "git_branch"));
        Assert.NotEqual(Digest.Of(config), Digest.Of(RegistryDimgImages.DimgConfig(StageConfig, "custom")));
        using var json = JsonDocument.Parse(config);
        var root = json.RootElement;
        Assert.Equal("2026-11-28T10:00:00.123Z", root.GetProperty("created").GetString());
        var labels = root.GetProperty("config").GetProperty("Labels");
        Assert.Equal("true", labels.GetProperty("dapp-dimg").GetString());
        Assert.Equal("git_branch", labels.GetProperty("dapp-tag-scheme").GetString());
        Assert.Equal("abc", labels.GetProperty("dapp-stage-signature").GetString());
        Assert.Equal("A=1", root.GetProperty("config").GetProperty("Env")[0].GetString());
        Assert.Equal("sha256:aa", root.GetProperty("rootfs").GetProperty("diff_ids")[0].GetString());
    }

    [Fact]
    public void A_config_without_labels_gets_them()
    {
        var config = RegistryDimgImages.DimgConfig(Encoding.UTF8.GetBytes("""{"rootfs":{"type":"layers","diff_ids":[]}}"""), "custom");
        using var json = JsonDocument.Parse(config);
        Assert.Equal("true", json.RootElement.GetProperty("config").GetProperty("Labels").GetProperty("dapp-dimg").GetString());
    }

    [Fact]
    public void The_manifest_keeps_its_type_and_layers_and_takes_the_new_config_descriptor()
    {
        var manifest = Encoding.UTF8.GetBytes("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:old","size":10},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:l1","size":5}],
             "annotations":{"a":"b"}}
            """);
        var result = RegistryDimgImages.WithConfig(manifest, new Descriptor(MediaTypes.OciConfig, "sha256:new", 42));
        using var json = JsonDocument.Parse(result);
        var root = json.RootElement;
        Assert.Equal(MediaTypes.OciManifest, root.GetProperty("mediaType").GetString());
        Assert.Equal(MediaTypes.OciConfig, root.GetProperty("config").GetProperty("mediaType").GetString());
        Assert.Equal("sha256:new", root.GetProperty("config").GetProperty("digest").GetString());
        Assert.Equal(42, root.GetProperty("config").GetProperty("size").GetInt64());
        Assert.Equal("sha256:l1", root.GetProperty("layers")[0].GetProperty("digest").GetString());
        Assert.Equal("b", root.GetProperty("annotations").GetProperty("a").GetString());
        Assert.Equal(result, RegistryDimgImages.WithConfig(manifest, new Descriptor(MediaTypes.OciConfig, "sha256:new", 42)));
    }
}

public class StagesKeepSetTests
{
    private static StoredStage Stage(string signature, string config, IReadOnlyDictionary<string, string>? labels = null, params string[] layers) =>
        new(signature, "sha256:m-" + signature, layers, config, DateTimeOffset.UnixEpoch, labels ?? new Dictionary<string, string>(), layers.Length);

    [Fact]
    public void A_root_keeps_the_stages_whose_layers_begin_its_own_and_the_chains_of_the_artifacts_it_imports()
    {
        var artifactFrom = Stage("af", "c-af", null, "base", "a1");
        var artifact = Stage("a", "c-a", null, "base", "a1", "a2");
        var from = Stage("f", "c-f", null, "base", "f1");
        var install = Stage("i", "c-i", new Dictionary<string, string> { ["dapp-artifact-builder"] = "c-a" }, "base", "f1", "i1");
        var oldSetup = Stage("s1", "c-s1", null, "base", "f1", "i1", "s1");
        var newSetup = Stage("s2", "c-s2", null, "base", "f1", "i1", "s2");
        var other = Stage("o", "c-o", null, "base", "o1");
        var keep = StagesKeepSet.Compute([artifactFrom, artifact, from, install, oldSetup, newSetup, other], ["s2"]);
        Assert.Equal(new[] { "a", "af", "f", "i", "s2" }, keep.Order());
    }

    private static Dictionary<string, string> Parent(string parent) => new() { [DappLabels.ParentSignature] = parent };

    [Fact]
    public void A_root_keeps_exactly_the_chain_its_stages_record_not_a_layerless_stage_of_an_older_chain()
    {
        var from = Stage("f", "c-f", Parent(""), "base");
        var install = Stage("i", "c-i", Parent("f"), "base", "i1");
        // An older commit's docker_instructions stage, on the same install stage: no layer of its own, so its layers begin every later image's.
        var oldDocker = Stage("d1", "c-d1", Parent("i"), "base", "i1");
        var setup = Stage("s", "c-s", Parent("i"), "base", "i1", "s1");
        var docker = Stage("d2", "c-d2", Parent("s"), "base", "i1", "s1");
        Assert.Equal(new[] { "d2", "f", "i", "s" }, StagesKeepSet.Compute([from, install, oldDocker, setup, docker], ["d2"]).Order());
    }

    [Fact]
    public void From_a_stage_of_an_older_dapp_which_records_no_parent_the_chain_goes_on_by_layers()
    {
        var from = Stage("f", "c-f", null, "base");
        var install = Stage("i", "c-i", null, "base", "i1");
        var setup = Stage("s", "c-s", Parent("i"), "base", "i1", "s1");
        var other = Stage("o", "c-o", null, "base", "o1");
        Assert.Equal(new[] { "f", "i", "s" }, StagesKeepSet.Compute([from, install, setup, other], ["s"]).Order());
    }

    [Fact]
    public void A_from_stage_on_a_fromDimg_base_keeps_the_base_chain_and_a_parent_cycle_ends()
    {
        var baseFrom = Stage("bf", "c-bf", Parent(""), "base");
        var baseLast = Stage("bl", "c-bl", Parent("bf"), "base", "b1");
        var from = Stage("f", "c-f", Parent("bl"), "base", "b1");
        var looped = Stage("x", "c-x", Parent("y"), "x1");
        var loop = Stage("y", "c-y", Parent("x"), "y1");
        Assert.Equal(new[] { "bf", "bl", "f" }, StagesKeepSet.Compute([baseFrom, baseLast, from, looped, loop], ["f"]).Order());
        Assert.Equal(new[] { "x", "y" }, StagesKeepSet.Compute([baseFrom, baseLast, from, looped, loop], ["x"]).Order());
    }

    [Fact]
    public void A_root_the_registry_lacks_keeps_nothing()
    {
        Assert.Empty(StagesKeepSet.Compute([Stage("f", "c-f", null, "base")], ["gone"]));
    }
}
