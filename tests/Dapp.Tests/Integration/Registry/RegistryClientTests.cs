using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Tests.Integration.Registry;

/// <summary>The client against the real registry on 127.0.0.1:5000 started by scripts/services.</summary>
[Collection(TransferCollection.Name)]
public class RegistryClientTests
{
    public const string Registry = "127.0.0.1:5000";

    private static RepositoryName NewRepository(string host = Registry) => RepositoryName.Parse($"{host}/it/{Guid.NewGuid():N}");

    private static RegistryClientOptions Fast => new() { RetryBaseDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task An_image_pushed_by_the_client_is_pulled_and_run_by_docker_and_inspected_by_skopeo()
    {
        using var client = new RegistryClient();
        var repository = NewRepository();
        var image = TestImage.Create(new Dictionary<string, string> { ["hello.txt"] = "hello from the client" }, new Dictionary<string, string> { ["team"] = "core" });
        await image.PushAsync(client, repository, "v1");
        var name = $"{repository}:v1";

        var pull = await DockerCli.RunAsync("pull", name);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        try
        {
            var run = await DockerCli.RunAsync("run", "--rm", "--network=none", "--entrypoint", "/bin/busybox", name, "cat", "/hello.txt");
            Assert.Equal("hello from the client", run.Stdout);

            var skopeo = await Tool.RunAsync("/usr/bin/skopeo", "inspect", "--tls-verify=false", $"docker://{name}");
            Assert.True(skopeo.ExitCode == 0, skopeo.Stderr);
            using var json = JsonDocument.Parse(skopeo.Stdout);
            Assert.Equal("core", json.RootElement.GetProperty("Labels").GetProperty("team").GetString());
            Assert.Equal(image.LayerDescriptor.Digest, json.RootElement.GetProperty("Layers")[0].GetString());
            Assert.Equal(image.Manifest.Digest, json.RootElement.GetProperty("Digest").GetString());
        }
        finally
        {
            await DockerCli.RunAsync("rmi", name);
        }
    }

    [Fact]
    public async Task An_image_pushed_by_docker_is_read_by_the_client_with_every_layer_verified()
    {
        var repository = NewRepository();
        var name = $"{repository}:pushed";
        var container = $"dapp-it-{Guid.NewGuid():N}";
        Assert.Equal(0, (await DockerCli.RunAsync("run", "--name", container, "--network=none", EngineFixture.BaseImage, "sh", "-c", "echo changed > /changed")).ExitCode);
        try
        {
            Assert.Equal(0, (await DockerCli.CommitAsync(null, "--change", "LABEL stage=pushed-by-docker", container, name)).ExitCode);
            var push = await DockerCli.RunAsync("push", name);
            Assert.True(push.ExitCode == 0, push.Stderr);
        }
        finally
        {
            await DockerCli.RunAsync("rm", container);
            await DockerCli.RunAsync("rmi", name);
        }

        using var client = new RegistryClient();
        var reference = ImageReference.Parse(name);
        var head = await client.HeadManifestAsync(reference, default);
        var manifest = await client.GetManifestAsync(reference, null, default);
        Assert.Equal(head!.Digest, manifest.Digest);
        Assert.Equal(MediaTypes.DockerManifest, manifest.MediaType);
        var model = manifest.AsManifest();

        var config = new MemoryStream();
        await client.DownloadBlobAsync(repository, model.Config, config, null, default);
        using var configJson = JsonDocument.Parse(config.ToArray());
        Assert.Equal("pushed-by-docker", configJson.RootElement.GetProperty("config").GetProperty("Labels").GetProperty("stage").GetString());
        Assert.Equal(2, model.Layers.Count);
        foreach (var layer in model.Layers)
        {
            var content = new MemoryStream();
            long reported = 0;
            await client.DownloadBlobAsync(repository, layer, content, new Progress(n => reported += n), default);
            Assert.Equal(layer.Size, content.Length);
            Assert.Equal(layer.Digest, Digest.Of(content.ToArray()));
            Assert.Equal(layer.Size, reported);
        }
    }

    [Fact]
    public async Task Missing_tags_and_repositories_are_null_on_head_and_clear_errors_on_get()
    {
        using var client = new RegistryClient();
        var repository = NewRepository();
        Assert.Null(await client.HeadManifestAsync(ImageReference.WithTag(repository, "nothing"), default));
        var image = TestImage.Create(new Dictionary<string, string> { ["a"] = "a" }, withBusybox: false);
        await image.PushAsync(client, repository, "present");
        Assert.NotNull(await client.HeadManifestAsync(ImageReference.WithTag(repository, "present"), default));
        Assert.Null(await client.HeadManifestAsync(ImageReference.WithTag(repository, "absent"), default));
        Assert.Null(await client.HeadBlobAsync(repository, "sha256:" + new string('0', 64), default));

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(ImageReference.WithTag(repository, "absent"), null, default));
        Assert.Equal(RegistryErrorCode.ManifestUnknown, e.Code);
        Assert.Contains($"{repository}:absent", e.Message);
        var missingRepo = NewRepository();
        var listing = await Assert.ThrowsAsync<RegistryException>(() => client.ListTagsAsync(missingRepo, 10, default));
        Assert.Equal(RegistryErrorCode.NameUnknown, listing.Code);
        Assert.True(listing.IsNotFound);
    }

    [Fact]
    public async Task Tags_and_repositories_are_listed_across_pages_and_manifests_deleted_by_digest()
    {
        using var client = new RegistryClient();
        var repository = NewRepository();
        var image = TestImage.Create(new Dictionary<string, string> { ["a"] = "paging" }, withBusybox: false);
        await image.PushAsync(client, repository, "t0");
        var tags = Enumerable.Range(0, 8).Select(i => $"t{i}").ToList();
        foreach (var tag in tags.Skip(1)) await client.PutManifestAsync(repository, tag, image.Manifest, default);

        Assert.Equal(tags.Order(), (await client.ListTagsAsync(repository, 3, default)).Order());

        // Registry 2.8 pages its catalog with Link headers (it answers tag lists in one page whatever n is). Pages of a
        // third of the catalog: the suite's registry holds thousands of repositories by then, and pages of 2 took 40 s.
        // (The registry refuses pages of more than 100. A second repository of the test's own: at least two pages.)
        await image.PushAsync(client, NewRepository(), "t0");
        var catalog = await client.ListRepositoriesAsync("127.0.0.1:5000", 100, default);
        var pageSize = Math.Clamp(catalog.Count / 3, 1, 100);
        await using var proxy = new FaultProxy(5000);
        using var viaProxy = new RegistryClient();
        var repositories = await viaProxy.ListRepositoriesAsync(proxy.Host, pageSize, default);
        Assert.Contains(repository.Repository, repositories);
        Assert.Equal(repositories.Distinct().Count(), repositories.Count);
        Assert.True(repositories.Count > pageSize);
        Assert.True(proxy.Seen.Count(r => r.Path.Contains("/_catalog")) >= (repositories.Count + pageSize - 1) / pageSize, "every page was fetched");

        await client.DeleteManifestAsync(repository, image.Manifest.Digest, default);
        Assert.Null(await client.HeadManifestAsync(ImageReference.WithTag(repository, "t3"), default));
    }

    [Fact]
    public async Task An_index_resolves_to_the_manifest_of_the_platform()
    {
        using var client = new RegistryClient();
        var repository = NewRepository();
        var amd64 = TestImage.Create(new Dictionary<string, string> { ["arch"] = "amd64" }, architecture: "amd64", withBusybox: false);
        var arm64 = TestImage.Create(new Dictionary<string, string> { ["arch"] = "arm64" }, architecture: "arm64", withBusybox: false);
        await amd64.PushAsync(client, repository, amd64.Manifest.Digest);
        await arm64.PushAsync(client, repository, arm64.Manifest.Digest);
        var index = RawManifest.From(new ImageIndex(2, MediaTypes.OciIndex,
        [
            new Descriptor(amd64.Manifest.MediaType, amd64.Manifest.Digest, amd64.Manifest.Content.Length, new Platform("amd64", "linux")),
            new Descriptor(arm64.Manifest.MediaType, arm64.Manifest.Digest, arm64.Manifest.Content.Length, new Platform("arm64", "linux", "v8")),
        ]));
        await client.PutManifestAsync(repository, "multi", index, default);
        var reference = ImageReference.WithTag(repository, "multi");

        Assert.True((await client.GetManifestExactAsync(reference, default)).IsIndex);
        Assert.Equal(amd64.Manifest.Digest, (await client.GetManifestAsync(reference, null, default)).Digest);
        Assert.Equal(arm64.Manifest.Digest, (await client.GetManifestAsync(reference, Platform.Parse("linux/arm64"), default)).Digest);
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(reference, Platform.Parse("linux/s390x"), default));
        Assert.Contains("no manifest for linux/s390x", e.Message);
    }

    [Fact]
    public async Task Existing_blobs_are_skipped_and_blobs_known_in_another_repository_are_mounted()
    {
        using var client = new RegistryClient();
        var first = NewRepository();
        var second = NewRepository();
        var blob = RandomNumberGenerator.GetBytes(4096);
        var descriptor = new Descriptor(MediaTypes.DockerLayer, Digest.Of(blob), blob.Length);
        Assert.Equal(BlobUploadResult.Uploaded, await client.UploadBlobAsync(first, descriptor, TestImage.Open(blob), null, null, default));
        Assert.Equal(BlobUploadResult.Existed, await client.UploadBlobAsync(first, descriptor, TestImage.Open(blob), null, null, default));
        Assert.Equal(BlobUploadResult.Mounted, await client.UploadBlobAsync(second, descriptor, TestImage.Open(blob), first, null, default));
        var copy = new MemoryStream();
        await client.DownloadBlobAsync(second, descriptor, copy, null, default);
        Assert.Equal(blob, copy.ToArray());
    }

    [Fact]
    public async Task A_large_blob_is_uploaded_in_chunks()
    {
        using var client = new RegistryClient(Fast with { MonolithicUploadLimit = 100_000, ChunkSize = 64 * 1024 });
        var repository = NewRepository();
        var blob = RandomNumberGenerator.GetBytes(300_000);
        var descriptor = new Descriptor(MediaTypes.DockerLayer, Digest.Of(blob), blob.Length);
        long sent = 0;
        Assert.Equal(BlobUploadResult.Uploaded, await client.UploadBlobAsync(repository, descriptor, TestImage.Open(blob), null, new Progress(n => sent += n), default));
        Assert.Equal(blob.Length, sent);
        var copy = new MemoryStream();
        await client.DownloadBlobAsync(repository, descriptor, copy, null, default);
        Assert.Equal(blob, copy.ToArray());
    }

    [Fact]
    public async Task Content_that_does_not_match_its_digest_is_rejected()
    {
        using var client = new RegistryClient();
        var repository = NewRepository();
        var blob = Encoding.UTF8.GetBytes("the real content");
        var descriptor = new Descriptor(MediaTypes.DockerLayer, Digest.Of(blob), blob.Length);
        await client.UploadBlobAsync(repository, descriptor, TestImage.Open(blob), null, null, default);
        var lying = descriptor with { Digest = Digest.Of(Encoding.UTF8.GetBytes("other content!!!")) };
        await Assert.ThrowsAsync<RegistryException>(() => client.DownloadBlobAsync(repository, lying, new MemoryStream(), null, default));
        var wrongUpload = await Assert.ThrowsAsync<RegistryException>(() =>
            client.UploadBlobAsync(repository, lying, TestImage.Open(blob), null, null, default));
        Assert.Contains("DIGEST_INVALID", wrongUpload.Message);
    }
}

/// <summary>A synchronous progress sink (Progress&lt;T&gt; would report on the thread pool, after the await).</summary>
internal sealed class Progress(Action<long> report) : IProgress<long>
{
    public void Report(long value) => report(value);
}
