using System.Net;
using System.Diagnostics;
using System.Security.Cryptography;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Tests.Integration.Registry;

/// <summary>The client through a fault-injecting proxy in front of the real registry on 127.0.0.1:5000.</summary>
[Collection(TransferCollection.Name)]
public class RegistryFaultTests
{
    private static RegistryClientOptions Fast => new()
    {
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(300),
        Environment = _ => null,
    };

    private static async Task<(RepositoryName Direct, Descriptor Blob, byte[] Content)> StoredBlobAsync(int size)
    {
        var direct = RepositoryName.Parse($"{RegistryClientTests.Registry}/faults/{Guid.NewGuid():N}");
        var content = RandomNumberGenerator.GetBytes(size);
        var blob = new Descriptor(MediaTypes.DockerLayer, Digest.Of(content), content.Length);
        using var client = new RegistryClient();
        await client.UploadBlobAsync(direct, blob, TestImage.Open(content), null, null, default);
        return (direct, blob, content);
    }

    private static RepositoryName Via(FaultProxy proxy, RepositoryName direct) => RepositoryName.Parse($"{proxy.Host}/{direct.Repository}");

    [Fact]
    public async Task A_download_broken_in_the_middle_resumes_and_completes_with_verified_content()
    {
        var (direct, blob, content) = await StoredBlobAsync(3 << 20);
        await using var proxy = new FaultProxy(5000);
        var blobGets = 0;
        proxy.Rule = r => r.Method == "GET" && r.Path.Contains("/blobs/") && Interlocked.Increment(ref blobGets) <= 2 ? new ResetFault(1 << 20) : null;
        using var client = new RegistryClient(Fast);
        var sink = new MemoryStream();
        await client.DownloadBlobAsync(Via(proxy, direct), blob, sink, null, default);
        Assert.Equal(content, sink.ToArray());
        var gets = proxy.Seen.Where(r => r.Method == "GET" && r.Path.Contains("/blobs/")).ToList();
        Assert.Equal(3, gets.Count);
        // Each retry asks for the rest from where the data that reached the client ended.
        var starts = gets.Skip(1).Select(r => long.Parse(r.Headers["Range"]["bytes=".Length..^1])).ToList();
        Assert.All(starts, s => Assert.InRange(s, 1, 2L << 20));
        Assert.True(starts[1] > starts[0]);
    }

    [Fact]
    public async Task A_manifest_whose_blob_is_unknown_for_an_instant_is_stored_and_one_whose_blob_is_missing_still_fails()
    {
        // What the registry answered in CI while another client committed the same layer: its link was being rewritten.
        const string blobUnknown = """{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"},{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}""";
        var direct = RepositoryName.Parse($"{RegistryClientTests.Registry}/faults/{Guid.NewGuid():N}");
        var image = TestImage.Create(new Dictionary<string, string> { ["/a"] = "a" }, withBusybox: false);
        using (var setup = new RegistryClient())
        {
            await setup.UploadBlobAsync(direct, image.LayerDescriptor, TestImage.Open(image.Layer), null, null, default);
            await setup.UploadBlobAsync(direct, image.ConfigDescriptor, TestImage.Open(image.Config), null, null, default);
        }
        await using var proxy = new FaultProxy(5000);
        var puts = 0;
        proxy.Rule = r => r.Method == "PUT" && r.Path.Contains("/manifests/") && Interlocked.Increment(ref puts) <= 2 ? new StatusFault(400, JsonBody: blobUnknown) : null;
        using var client = new RegistryClient(Fast);
        Assert.Equal(image.Manifest.Digest, await client.PutManifestAsync(Via(proxy, direct), "stored", image.Manifest, default));
        Assert.Equal(3, puts);
        Assert.Equal(image.Manifest.Digest, (await client.GetManifestAsync(ImageReference.WithTag(direct, "stored"), null, default)).Digest);

        // Really missing (never uploaded here): the registry's own answer, after the budget's retries.
        var elsewhere = RepositoryName.Parse($"{RegistryClientTests.Registry}/faults/{Guid.NewGuid():N}");
        var missing = await Assert.ThrowsAsync<RegistryException>(() => client.PutManifestAsync(elsewhere, "missing", image.Manifest, default));
        Assert.Contains(missing.Errors, e => e.Code == RegistryErrorCode.ManifestBlobUnknown);
    }

    [Fact]
    public async Task Server_errors_and_throttling_are_retried_honouring_retry_after()
    {
        var (direct, blob, _) = await StoredBlobAsync(1024);
        await using var proxy = new FaultProxy(5000);
        var heads = 0;
        proxy.Rule = r => r.Method == "HEAD" ? Interlocked.Increment(ref heads) switch
        {
            1 => new StatusFault(500),
            2 => new StatusFault(503),
            3 => new StatusFault(429, RetryAfterSeconds: 1),
            _ => null,
        } : null;
        using var client = new RegistryClient(Fast);
        var clock = Stopwatch.StartNew();
        Assert.Equal(blob.Size, await client.HeadBlobAsync(Via(proxy, direct), blob.Digest, default));
        Assert.Equal(4, heads);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"Retry-After: 1 was not honoured ({clock.Elapsed})");
    }

    [Fact]
    public async Task Uploads_complete_through_failed_chunks_and_failed_puts()
    {
        await using var proxy = new FaultProxy(5000);
        var patches = 0;
        var puts = 0;
        proxy.Rule = r => r.Method switch
        {
            // The registry takes the second chunk but the client never hears so: it must ask where the upload stands.
            "PATCH" when Interlocked.Increment(ref patches) == 2 => new ResetFault(0),
            "PATCH" when patches == 4 => new StatusFault(500),
            "PUT" when r.Path.Contains("/blobs/uploads/") && Interlocked.Increment(ref puts) == 1 => new StatusFault(502),
            _ => null,
        };
        using var client = new RegistryClient(Fast with { MonolithicUploadLimit = 200_000, ChunkSize = 100_000 });
        var repository = RepositoryName.Parse($"{proxy.Host}/faults/{Guid.NewGuid():N}");

        var large = RandomNumberGenerator.GetBytes(450_000);
        var largeBlob = new Descriptor(MediaTypes.DockerLayer, Digest.Of(large), large.Length);
        Assert.Equal(BlobUploadResult.Uploaded, await client.UploadBlobAsync(repository, largeBlob, TestImage.Open(large), null, null, default));
        var small = RandomNumberGenerator.GetBytes(50_000);
        var smallBlob = new Descriptor(MediaTypes.DockerLayer, Digest.Of(small), small.Length);
        Assert.Equal(BlobUploadResult.Uploaded, await client.UploadBlobAsync(repository, smallBlob, TestImage.Open(small), null, null, default));
        Assert.True(patches >= 5, $"chunks were sent ({patches} PATCHes)");
        Assert.True(puts >= 2);
        Assert.Contains(proxy.Seen, r => r.Method == "GET" && r.Path.Contains("/blobs/uploads/"));

        foreach (var (blob, content) in new[] { (largeBlob, large), (smallBlob, small) })
        {
            var copy = new MemoryStream();
            await client.DownloadBlobAsync(repository, blob, copy, null, default);
            Assert.Equal(content, copy.ToArray());
        }
    }

    [Fact]
    public async Task A_registry_that_is_down_gives_a_clear_error_after_the_retries_not_a_hang()
    {
        var port = FreePort.Next();
        using var client = new RegistryClient(Fast with { MaxRetries = 3 });
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RegistryException>(() =>
            client.HeadManifestAsync(ImageReference.Parse($"127.0.0.1:{port}/down/app:v1"), default));
        Assert.Contains($"cannot reach the registry 127.0.0.1:{port}", e.Message);
        Assert.Contains("gave up after 3 retries", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_status_that_stays_transient_fails_after_the_budget_saying_how_often_it_was_tried()
    {
        var (direct, blob, _) = await StoredBlobAsync(256);
        await using var proxy = new FaultProxy(5000);
        proxy.Rule = r => r.Method == "HEAD" ? new StatusFault(503) : null;
        using var client = new RegistryClient(Fast with { MaxRetries = 3 });
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.HeadBlobAsync(Via(proxy, direct), blob.Digest, default));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.Status);
        Assert.Contains("503", e.Message);
        Assert.Contains("still, after 3 retries", e.Message);
        Assert.Equal(4, proxy.Seen.Count(r => r.Method == "HEAD"));
    }

    [Fact]
    public async Task Parallel_requests_per_registry_are_limited()
    {
        var (direct, blob, _) = await StoredBlobAsync(512);
        await using var proxy = new FaultProxy(5000);
        using var client = new RegistryClient(Fast with { MaxConcurrentRequests = 2 });
        var repository = Via(proxy, direct);
        var sizes = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => client.HeadBlobAsync(repository, blob.Digest, default)));
        Assert.All(sizes, s => Assert.Equal(blob.Size, s));
        Assert.InRange(proxy.MaxConcurrentRequests, 1, 2);

        await using var wide = new FaultProxy(5000);
        using var wideClient = new RegistryClient(Fast with { MaxConcurrentRequests = 8 });
        proxyDelay(wide);
        await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => wideClient.HeadBlobAsync(Via(wide, direct), blob.Digest, default)));
        Assert.InRange(wide.MaxConcurrentRequests, 3, 8);
    }

    /// <summary>Slows each request a little so that concurrent ones overlap at the proxy.</summary>
    private static void proxyDelay(FaultProxy proxy) => proxy.Rule = _ => { Thread.Sleep(50); return null; };
}
