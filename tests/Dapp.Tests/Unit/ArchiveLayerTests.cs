using System.Text.Json;
using Dapp.Build;
using Dapp.Engine;
using Docker.DotNet.Models;

namespace Dapp.Tests.Unit;

/// <summary>The archive stage loaded as a layer: the config it writes, and the check of what the engine made of it.</summary>
public class ArchiveLayerTests
{
    private static readonly ImageInspectResponse Parent = new()
    {
        Architecture = "amd64",
        Os = "linux",
        RootFS = new RootFS { Type = "layers", Layers = ["sha256:aa", "sha256:bb"] },
    };

    private static CommitContainerChangesParameters Config() => CommitParameters.Of(new DockerOCIImageConfig
    {
        Env = ["PATH=/bin", "A=1"],
        Cmd = ["/bin/sh"],
        Entrypoint = [],
        WorkingDir = "/srv",
        User = "app",
        ExposedPorts = new Dictionary<string, EmptyStruct> { ["80/tcp"] = default },
        Volumes = new Dictionary<string, EmptyStruct> { ["/data"] = default },
        Labels = new Dictionary<string, string> { ["from-base"] = "1" },
    }, new Dictionary<string, string> { ["dapp-stage"] = "g_a_archive", ["dapp-stage-signature"] = "abc" });

    [Fact]
    public void The_config_is_the_parents_layers_and_one_more_with_the_commit_config_and_a_history_entry_per_layer()
    {
        var json = JsonDocument.Parse(LayerImageConfig.Write(Parent, Config(), "sha256:cc", "dapp: app: stage g_a_archive", DateTimeOffset.UnixEpoch)).RootElement;
        Assert.Equal("amd64", json.GetProperty("architecture").GetString());
        Assert.Equal("linux", json.GetProperty("os").GetString());
        Assert.Equal(["sha256:aa", "sha256:bb", "sha256:cc"], json.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()));
        var history = json.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(3, history.Count);
        Assert.All(history, h => Assert.False(h.TryGetProperty("empty_layer", out _)));
        Assert.Equal("dapp: app: stage g_a_archive", history[2].GetProperty("created_by").GetString());
        var config = json.GetProperty("config");
        Assert.Equal(["PATH=/bin", "A=1"], config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["/bin/sh"], config.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()));
        Assert.False(config.TryGetProperty("Entrypoint", out _));
        Assert.Equal("/srv", config.GetProperty("WorkingDir").GetString());
        Assert.Equal("app", config.GetProperty("User").GetString());
        Assert.True(config.GetProperty("ExposedPorts").TryGetProperty("80/tcp", out _));
        Assert.True(config.GetProperty("Volumes").TryGetProperty("/data", out _));
        Assert.Equal("1", config.GetProperty("Labels").GetProperty("from-base").GetString());
        Assert.Equal("abc", config.GetProperty("Labels").GetProperty("dapp-stage-signature").GetString());
    }

    [Fact]
    public void A_healthcheck_is_not_carried_so_such_a_stage_is_built_in_a_container()
    {
        var config = Config();
        config.Healthcheck = new HealthcheckConfig { Test = ["CMD", "true"] };
        Assert.False(LayerImageConfig.CanCarry(config));
        Assert.True(LayerImageConfig.CanCarry(Config()));
    }

    private static ImageInspectResponse Loaded(Action<DockerOCIImageConfig>? change = null, IList<string>? layers = null)
    {
        var written = Config();
        var config = new DockerOCIImageConfig
        {
            Env = written.Env, Cmd = written.Cmd, Entrypoint = null, WorkingDir = written.WorkingDir, User = written.User,
            Labels = new Dictionary<string, string>(written.Labels),
            ExposedPorts = new Dictionary<string, EmptyStruct>(written.ExposedPorts!), Volumes = new Dictionary<string, EmptyStruct>(written.Volumes!),
        };
        change?.Invoke(config);
        return new ImageInspectResponse { Config = config, RootFS = new RootFS { Layers = layers ?? ["sha256:aa", "sha256:cc"] } };
    }

    [Fact]
    public void An_engine_that_loads_the_image_otherwise_than_written_is_caught()
    {
        string[] layers = ["sha256:aa", "sha256:cc"];
        Assert.Null(ImageConfigCheck.Mismatch(Loaded(), layers, Config()));
        Assert.Equal("no image under the config's digest", ImageConfigCheck.Mismatch(null, layers, Config()));
        Assert.Equal("other layers", ImageConfigCheck.Mismatch(Loaded(layers: ["sha256:aa"]), layers, Config()));
        Assert.Equal("label dapp-stage-signature missing or changed", ImageConfigCheck.Mismatch(Loaded(c => c.Labels!.Remove("dapp-stage-signature")), layers, Config()));
        Assert.Equal("label dapp-stage missing or changed", ImageConfigCheck.Mismatch(Loaded(c => c.Labels!["dapp-stage"] = "x"), layers, Config()));
        Assert.Equal("another environment", ImageConfigCheck.Mismatch(Loaded(c => c.Env = [.. c.Env!, "container=podman"]), layers, Config()));
        Assert.Equal("another entrypoint or command", ImageConfigCheck.Mismatch(Loaded(c => c.Cmd = null), layers, Config()));
        Assert.Equal("another working directory or user", ImageConfigCheck.Mismatch(Loaded(c => c.User = ""), layers, Config()));
        Assert.Equal("other ports or volumes", ImageConfigCheck.Mismatch(Loaded(c => c.Volumes = null), layers, Config()));
    }
}

/// <summary>The layer's tar planned before it is written: its size as TarWriter writes it, and the stream that holds the docker-save tar to it.</summary>
public class GitTarSizeTests
{
    [Fact]
    public void The_planned_size_of_an_entry_is_what_TarWriter_writes_for_any_name_link_and_data_length()
    {
        // No entry, no end blocks: an archive of nothing is 0 bytes (GitTar.SizeOf).
        using (var empty = new MemoryStream())
        {
            using (new System.Formats.Tar.TarWriter(empty, System.Formats.Tar.TarEntryFormat.Gnu, leaveOpen: true)) { }
            Assert.Equal(0, empty.Length);
        }
        var random = new Random(7);
        string Name(int length) => string.Concat(Enumerable.Range(0, length).Select(_ => random.Next(4) == 0 ? "ü" : "a"));
        int[] lengths = [0, 1, 49, 50, 51, 98, 99, 100, 101, 102, 254, 255, 256, 510, 511, 512, 513, 1023, 1024, 1025];
        foreach (var nameLength in lengths.Where(l => l > 0))
        foreach (var (link, data) in new (int? Link, int Data)[] { (null, 0), (null, 1), (null, 511), (null, 512), (null, 513), (1, 0), (99, 0), (100, 0), (600, 0) })
        {
            var name = Name(nameLength);
            var linkName = link is { } l ? Name(l) : null;
            using var tar = new MemoryStream();
            using (var writer = new System.Formats.Tar.TarWriter(tar, System.Formats.Tar.TarEntryFormat.Gnu, leaveOpen: true))
            {
                var entry = linkName is not null
                    ? new System.Formats.Tar.GnuTarEntry(System.Formats.Tar.TarEntryType.SymbolicLink, name) { LinkName = linkName }
                    : new System.Formats.Tar.GnuTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name) { DataStream = new MemoryStream(new byte[data]) };
                writer.WriteEntry(entry);
            }
            Assert.True(Dapp.Git.GitTar.EntrySize(name, linkName, data) + Dapp.Git.GitTar.EndSize == tar.Length,
                $"name of {System.Text.Encoding.UTF8.GetByteCount(name)} bytes, link {linkName?.Length}, data {data}: planned {Dapp.Git.GitTar.EntrySize(name, linkName, data)} + end, written {tar.Length}");
        }
    }

    private static async Task<byte[]> ThroughOuterTarAsync(ArchiveLayer.LayerStream layer)
    {
        using var outer = new MemoryStream();
        await using (var writer = new System.Formats.Tar.TarWriter(outer, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
            await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "layer.tar") { DataStream = layer });
        outer.Position = 0;
        await using var reader = new System.Formats.Tar.TarReader(outer);
        var entry = (await reader.GetNextEntryAsync())!;
        using var copy = new MemoryStream();
        await entry.DataStream!.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task The_layer_stream_carries_its_planned_length_and_its_digest_and_refuses_any_other_length()
    {
        var data = new byte[70_000];
        new Random(3).NextBytes(data);
        var layer = new ArchiveLayer.LayerStream(new NonSeekable(data), data.Length);
        Assert.Equal(data, await ThroughOuterTarAsync(layer));
        Assert.Equal("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data)), layer.DiffId);

        var shorter = await Assert.ThrowsAsync<DappException>(() => ThroughOuterTarAsync(new ArchiveLayer.LayerStream(new NonSeekable(data), data.Length + 1)));
        Assert.Contains($"came out at {data.Length} bytes, not the {data.Length + 1} planned", shorter.Message);
        await Assert.ThrowsAsync<DappException>(() => ThroughOuterTarAsync(new ArchiveLayer.LayerStream(new NonSeekable(data), data.Length - 1)));
    }

    /// <summary>A pipe's reading end: bytes in order, no length.</summary>
    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>The archive layer against an engine that fails the load at once, without reading it.</summary>
public class ArchiveLayerFailureTests
{
    [Fact]
    public async Task A_load_the_engine_refuses_ends_with_its_error_and_no_image_not_a_writer_waiting_for_a_reader()
    {
        var dir = Directory.CreateTempSubdirectory("dapp-archive-layer-").FullName;
        try
        {
            // More than the pipe lets through before its writer waits for a reader (8 MiB).
            LibGit2Sharp.Repository.Init(dir);
            using var repository = new LibGit2Sharp.Repository(dir);
            var random = new Random(5);
            for (int i = 0; i < 20; i++)
            {
                var content = new byte[1 << 20];
                random.NextBytes(content);
                File.WriteAllBytes(Path.Combine(dir, $"f{i}.bin"), content);
            }
            LibGit2Sharp.Commands.Stage(repository, "*");
            var who = new LibGit2Sharp.Signature("t", "t@example.com", DateTimeOffset.UnixEpoch);
            var commit = repository.Commit("files", who, who, new LibGit2Sharp.CommitOptions());
            using var submodules = new Dapp.Git.Submodules(_ => throw new InvalidOperationException("no submodules here"));
            var config = new Dapp.Config.GitPathConfig(null, "/", "/app", null, null, [], [], null, null, null,
                new Dictionary<Dapp.Config.UserStage, IReadOnlyList<string>>(), new SourceLocation("dappfile.yml", 1, 1));
            var path = new Dapp.Git.GitPath(config, new Dapp.Git.RepositoryAt(repository, commit, "", dir), "own", submodules);
            var work = Dapp.Stages.StageWork.None with { Git = [new Dapp.Stages.GitWork(path, IsArchive: true)] };

            var engine = new Fakes.FakeEngine();
            engine.AddImage("base:1");
            var previous = (await engine.InspectImageAsync("base:1", default))!;
            var layer = new ArchiveLayer(engine, new RecordingReporter());
            var build = layer.TryBuildAsync(previous, work, CommitParameters.Of(previous.Config!, new Dictionary<string, string>()), "stage:1", "app: stage g_a_archive",
                null, default);
            await Assert.ThrowsAsync<NotSupportedException>(() => build.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Null(engine.Image("stage:1"));
        }
        finally
        {
            foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)) File.SetAttributes(file, FileAttributes.Normal);
            Directory.Delete(dir, recursive: true);
        }
    }
}
