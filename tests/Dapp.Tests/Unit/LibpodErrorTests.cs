using Dapp.Engine;
using Dapp.Tests.Integration;

namespace Dapp.Tests.Unit;

/// <summary>Podman's errors through its own API, against a loopback server answering as Podman 4.3.1 does.</summary>
public class LibpodErrorTests
{
    [Fact]
    public async Task A_commit_refused_for_want_of_a_runroot_says_what_to_add_to_storage_conf()
    {
        await using var podman = FakeServer.Http(500, "application/json",
            """{"cause":"runroot must be set","message":"CommitFailure: runroot must be set","response":500}""");
        using var libpod = Libpod.For(new Uri($"tcp://{podman.Host}"), "tcp://" + podman.Host, tls: false);

        var error = await Assert.ThrowsAsync<DappException>(() =>
            libpod.CommitAsync("c1", "docker.io/library/dimgstage-p", "sig", [], "commit dimgstage-p:sig", CancellationToken.None));

        Assert.StartsWith("commit dimgstage-p:sig: CommitFailure: runroot must be set (", error.Message);
        Assert.Contains("add runroot and graphroot to its [storage] table", error.Message);
        Assert.Contains("/v4.0.0/libpod/commit?container=c1&", Assert.Single(podman.Requests));
    }

    [Fact]
    public async Task Other_errors_are_told_as_podman_gives_them()
    {
        await using var podman = FakeServer.Http(500, "application/json", """{"cause":"x","message":"no space left on device","response":500}""");
        using var libpod = Libpod.For(new Uri($"tcp://{podman.Host}"), "tcp://" + podman.Host, tls: false);

        var error = await Assert.ThrowsAsync<DappException>(() =>
            libpod.CommitAsync("c1", "docker.io/library/dimgstage-p", "sig", [], "commit dimgstage-p:sig", CancellationToken.None));

        Assert.Equal("commit dimgstage-p:sig: no space left on device", error.Message);
    }
}
