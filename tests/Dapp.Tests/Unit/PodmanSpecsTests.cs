using System.Text.Json.Nodes;
using Dapp.Engine;
using Docker.DotNet.Models;

namespace Dapp.Tests.Unit;

public class PodmanSpecsTests
{
    [Fact]
    public void A_build_container_gets_the_images_environment_and_nothing_of_Podmans_own()
    {
        var spec = PodmanSpecs.CreateSpec(new CreateContainerParameters
        {
            Name = "dapp.build.x",
            Image = "dimgstage-p:abc",
            Entrypoint = ["/bin/sh", "-ec", "echo hi"],
            User = "0:0",
            WorkingDir = "/",
            Labels = new Dictionary<string, string> { ["dapp-build-container"] = "p" },
            HostConfig = new HostConfig { Binds = ["/host/tmp:/tmp/dapp", "/host/ro:/ro:ro"], NetworkMode = "none" },
        }, ["PATH=/bin", "A=x=y", "EMPTY="], [new PodmanSpecs.VolumeMount("/var/lib/vol/_data", "/.dapp/deps/ansible", ReadOnly: true)]);

        Assert.True(spec["unsetenvall"]!.GetValue<bool>());
        Assert.Equal("""{"PATH":"/bin","A":"x=y","EMPTY":""}""", spec["env"]!.ToJsonString());
        Assert.Equal("""["/bin/sh","-ec","echo hi"]""", spec["entrypoint"]!.ToJsonString());
        // An entrypoint given drops the image's command, as on Docker.
        Assert.Equal("[]", spec["command"]!.ToJsonString());
        Assert.Equal("0:0", spec["user"]!.GetValue<string>());
        Assert.Equal("/", spec["work_dir"]!.GetValue<string>());
        Assert.Equal("p", spec["labels"]!["dapp-build-container"]!.GetValue<string>());
        Assert.Equal("""{"nsmode":"none"}""", spec["netns"]!.ToJsonString());
        var mounts = spec["mounts"]!.AsArray().Select(m => $"{m!["source"]}>{m["destination"]}:{string.Join(',', m["options"]!.AsArray())}").ToList();
        Assert.Equal(["/host/tmp>/tmp/dapp:rbind", "/host/ro>/ro:rbind,ro", "/var/lib/vol/_data>/.dapp/deps/ansible:rbind,ro"], mounts);
        Assert.Null(spec["volumes"]);
    }

    [Fact]
    public void An_environment_asked_for_wins_and_the_engines_defaults_stay_unset()
    {
        var spec = PodmanSpecs.CreateSpec(new CreateContainerParameters { Image = "i", Env = ["X=1"], Cmd = ["a"] }, ["PATH=/bin"], []);
        Assert.Equal("""{"X":"1"}""", spec["env"]!.ToJsonString());
        Assert.Equal("""["a"]""", spec["command"]!.ToJsonString());
        Assert.Null(spec["entrypoint"]);
        Assert.Null(spec["netns"]);
        Assert.Null(spec["name"]);
    }

    [Theory]
    [InlineData("host", """{"netns":{"nsmode":"host"}}""")]
    [InlineData("container:abc", """{"netns":{"nsmode":"container","value":"abc"}}""")]
    [InlineData("mynet", """{"netns":{"nsmode":"bridge"},"Networks":{"mynet":{}}}""")]
    public void Network_modes_become_libpod_namespaces(string mode, string expected)
    {
        var spec = PodmanSpecs.CreateSpec(new CreateContainerParameters { Image = "i", HostConfig = new HostConfig { NetworkMode = mode } }, [], []);
        var network = new JsonObject();
        foreach (var key in new[] { "netns", "Networks" })
            if (spec[key] is { } value) network[key] = value.DeepClone();
        Assert.Equal(expected, network.ToJsonString());
    }

    [Fact]
    public void An_anonymous_volume_is_a_libpod_volume_without_a_name()
    {
        var spec = PodmanSpecs.CreateSpec(new CreateContainerParameters
        {
            Image = "dapp-deps/ansible:1",
            Entrypoint = ["/never-started"],
            Volumes = new Dictionary<string, EmptyStruct> { ["/.dapp/deps/ansible"] = default },
        }, [], []);
        Assert.Equal("""[{"Name":"","Dest":"/.dapp/deps/ansible"}]""", spec["volumes"]!.ToJsonString());
    }

    [Fact]
    public void Every_commit_field_becomes_a_change_with_its_value_quoted_whole()
    {
        var changes = PodmanSpecs.CommitChanges(new CommitContainerChangesParameters
        {
            Entrypoint = [],
            Cmd = ["/bin/cat", "a \"b\""],
            Env = ["PATH=/bin", "Q=\"quoted\"", "SPACE= lead ", "EMPTY="],
            Labels = new Dictionary<string, string> { ["dapp-stage-inputs"] = """{"v":1}""", ["a b"] = "line1\nline2" },
            User = "app",
            WorkingDir = "/app",
            ExposedPorts = new Dictionary<string, EmptyStruct> { ["80/tcp"] = default },
            Volumes = new Dictionary<string, EmptyStruct> { ["/data dir"] = default },
            OnBuild = ["RUN echo x"],
            StopSignal = "SIGTERM",
        });
        Assert.Equal([
            "ENTRYPOINT []",
            """CMD ["/bin/cat","a \u0022b\u0022"]""",
            "ENV PATH=\"/bin\"",
            "ENV Q=\"\"quoted\"\"",
            "ENV SPACE=\" lead \"",
            "ENV EMPTY=\"\"",
            "LABEL \"a b\"=\"line1\nline2\"",
            """LABEL "dapp-stage-inputs"="{"v":1}" """.TrimEnd(),
            "USER app",
            "WORKDIR /app",
            "EXPOSE 80/tcp",
            """VOLUME ["/data dir"]""",
            "ONBUILD RUN echo x",
            "STOPSIGNAL SIGTERM",
        ], changes);
    }

    [Fact]
    public void No_user_or_working_directory_gives_no_change_and_a_missing_command_is_cleared()
    {
        Assert.Equal(["ENTRYPOINT []", "CMD []"], PodmanSpecs.CommitChanges(new CommitContainerChangesParameters()));
    }

    [Theory]
    [InlineData("dimgstage-p", "docker.io/library/dimgstage-p")]
    [InlineData("dapp-examples/busybox", "docker.io/dapp-examples/busybox")]
    [InlineData("127.0.0.1:5000/p/stages", "127.0.0.1:5000/p/stages")]
    [InlineData("localhost/x", "localhost/x")]
    [InlineData("registry.example.com/a/b", "registry.example.com/a/b")]
    public void Names_are_qualified_as_Docker_reads_them_and_shown_back_as_Docker_shows_them(string familiar, string qualified)
    {
        Assert.Equal(qualified, PodmanSpecs.Qualified(familiar));
        Assert.Equal(familiar + ":t", PodmanSpecs.Familiar(qualified + ":t"));
    }

    [Fact]
    public void Podmans_commit_is_checked_with_the_environments_order_and_a_root_working_directory_let_go()
    {
        var asked = new CommitContainerChangesParameters
        {
            Env = ["B=2", "A=1"],
            Labels = new Dictionary<string, string> { ["dapp-stage"] = "install" },
            Cmd = [],
            Entrypoint = [],
        };
        ImageInspectResponse Made(Action<DockerOCIImageConfig> change)
        {
            var config = new DockerOCIImageConfig { Env = ["A=1", "B=2"], Labels = new Dictionary<string, string> { ["dapp-stage"] = "install", ["extra"] = "x" }, WorkingDir = "/" };
            change(config);
            return new ImageInspectResponse { Config = config };
        }
        Assert.Null(ImageConfigCheck.Mismatch(Made(_ => { }), null, asked, envOrdered: false, rootIsNoWorkingDir: true));
        Assert.Equal("another environment", ImageConfigCheck.Mismatch(Made(_ => { }), null, asked));
        Assert.Equal("another working directory or user", ImageConfigCheck.Mismatch(Made(c => c.Env = ["B=2", "A=1"]), null, asked));
        Assert.Equal("another environment", ImageConfigCheck.Mismatch(Made(c => c.Env = ["A=1", "B=2", "TERM=xterm"]), null, asked, envOrdered: false, rootIsNoWorkingDir: true));
        Assert.Equal("label dapp-stage missing or changed", ImageConfigCheck.Mismatch(Made(c => c.Labels!.Clear()), null, asked, envOrdered: false, rootIsNoWorkingDir: true));
        Assert.Equal("other ports or volumes", ImageConfigCheck.Mismatch(Made(c => c.Volumes = new Dictionary<string, EmptyStruct> { ["/tool"] = default }), null, asked,
            envOrdered: false, rootIsNoWorkingDir: true));
    }
}

public class PublishedStageManifestTests
{
    [Fact]
    public void A_stamped_stage_manifest_is_OCI_through_and_through_and_the_types_go_back_for_a_Docker_manifest()
    {
        var docker = new Dapp.Registry.Model.Manifest(2, Dapp.Registry.Model.MediaTypes.DockerManifest,
            new Dapp.Registry.Model.Descriptor(Dapp.Registry.Model.MediaTypes.DockerConfig, "sha256:" + new string('c', 64), 10),
            [new Dapp.Registry.Model.Descriptor(Dapp.Registry.Model.MediaTypes.DockerLayer, "sha256:" + new string('a', 64), 20),
             new Dapp.Registry.Model.Descriptor(Dapp.Registry.Model.MediaTypes.DockerLayer, "sha256:" + new string('a', 64), 20)]);
        var stamped = Dapp.Storage.PublishedStages.Stamp(Dapp.Registry.Model.RawManifest.From(docker), DateTimeOffset.UnixEpoch);
        using var json = System.Text.Json.JsonDocument.Parse(stamped.Content);
        var root = json.RootElement;
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", root.GetProperty("mediaType").GetString());
        Assert.Equal("application/vnd.oci.image.config.v1+json", root.GetProperty("config").GetProperty("mediaType").GetString());
        Assert.All(root.GetProperty("layers").EnumerateArray(), l => Assert.Equal("application/vnd.oci.image.layer.v1.tar+gzip", l.GetProperty("mediaType").GetString()));
        Assert.Equal(Dapp.Registry.Model.MediaTypes.DockerLayer, Dapp.Registry.Model.MediaTypes.AsDocker("application/vnd.oci.image.layer.v1.tar+gzip"));
        Assert.Equal("application/x-other", Dapp.Registry.Model.MediaTypes.AsOci("application/x-other"));
    }
}

public class LabelFilterTests
{
    [Fact]
    public void Every_label_filter_must_hold_as_Docker_reads_them()
    {
        var filters = Filters.Labels("dapp=p", "dapp-dimg=true");
        Assert.True(Filters.MatchesLabels(filters, new Dictionary<string, string> { ["dapp"] = "p", ["dapp-dimg"] = "true", ["x"] = "y" }));
        Assert.False(Filters.MatchesLabels(filters, new Dictionary<string, string> { ["dapp"] = "p", ["dapp-dimg"] = "false" }));
        Assert.False(Filters.MatchesLabels(filters, new Dictionary<string, string> { ["dapp"] = "q", ["dapp-dimg"] = "true" }));
        Assert.False(Filters.MatchesLabels(filters, null));
        Assert.True(Filters.MatchesLabels(Filters.Labels("dapp-build-container"), new Dictionary<string, string> { ["dapp-build-container"] = "" }));
        Assert.False(Filters.MatchesLabels(Filters.Labels("dapp-build-container"), new Dictionary<string, string>()));
        Assert.True(Filters.MatchesLabels(Filters.Of("dangling", "true"), null));
    }
}
