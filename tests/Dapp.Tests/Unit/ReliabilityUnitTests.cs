using System.Net;
using Dapp.Engine;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Registry.Model;

namespace Dapp.Tests.Unit;

public class RetryBudgetTests
{
    private static readonly RetryPolicy Policy = new() { MaxRetries = 3, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(250) };

    [Fact]
    public void A_budget_gives_max_retries_with_growing_bounded_delays_then_no_more()
    {
        var budget = Policy.NewBudget();
        var delays = new List<TimeSpan>();
        while (budget.TryTake(RetryCause.Transient, null, out var delay)) delays.Add(delay);
        Assert.Equal(3, delays.Count);
        Assert.Equal(3, budget.Retries);
        Assert.InRange(delays[0].TotalMilliseconds, 50, 150);
        Assert.All(delays, d => Assert.True(d <= Policy.MaxDelay));
    }

    [Fact]
    public void Retry_after_is_honoured_and_a_wait_beyond_the_limit_is_refused()
    {
        var budget = Policy.NewBudget();
        Assert.True(budget.TryTake(RetryCause.Transient, TimeSpan.FromSeconds(7), out var delay));
        Assert.Equal(TimeSpan.FromSeconds(7), delay);
        Assert.False(budget.TryTake(RetryCause.Transient, TimeSpan.FromHours(1), out _));
    }

    [Fact]
    public void Only_one_timeout_is_retried_per_operation()
    {
        var budget = Policy.NewBudget();
        Assert.True(budget.TryTake(RetryCause.Timeout, null, out _));
        Assert.False(budget.TryTake(RetryCause.Timeout, null, out _));
        Assert.True(budget.TryTake(RetryCause.Transient, null, out _));
    }
}

/// <summary>429 as a quota: the same request refused again after its wait ends the operation; 429s of different requests, each passing on its retry, are a rate limit.</summary>
public class QuotaRetryTests
{
    private sealed class Scripted(params HttpStatusCode[] answers) : HttpMessageHandler
    {
        private int _next;
        public int Sent => _next;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = new HttpResponseMessage(answers[Math.Min(_next++, answers.Length - 1)]);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable) response.Headers.RetryAfter = new(TimeSpan.FromSeconds(30));
            return Task.FromResult(response);
        }
    }

    private static readonly RetryPolicy Fast = new() { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) };

    private static async Task<HttpStatusCode> SendAsync(HttpMessageInvoker invoker, RetryBudget budget)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://registry.test/v2/");
        request.Options.Set(Dapp.Registry.Remote.Handlers.RegistryRequest.Budget, budget);
        using var response = await invoker.SendAsync(request, default);
        return response.StatusCode;
    }

    [Fact]
    public async Task Each_request_of_an_operation_gets_one_wait_after_a_429()
    {
        var tooMany = HttpStatusCode.TooManyRequests;
        var inner = new Scripted(tooMany, HttpStatusCode.OK, tooMany, HttpStatusCode.OK, tooMany, tooMany, HttpStatusCode.OK);
        using var invoker = new HttpMessageInvoker(new Dapp.Registry.Remote.Handlers.RetryHandler(Fast, inner));
        var budget = Fast.NewBudget();
        Assert.Equal(HttpStatusCode.OK, await SendAsync(invoker, budget));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(invoker, budget));
        Assert.Equal(tooMany, await SendAsync(invoker, budget));
        Assert.Equal(6, inner.Sent);
    }

    [Fact]
    public async Task Waits_are_on_the_policy_s_clock()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var policy = Fast with { Time = clock };
        var inner = new Scripted(HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK);
        using var invoker = new HttpMessageInvoker(new Dapp.Registry.Remote.Handlers.RetryHandler(policy, inner));
        var sending = SendAsync(invoker, policy.NewBudget());
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(sending.IsCompleted);
        Assert.Equal(1, inner.Sent);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, await sending.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, inner.Sent);
    }
}

public class EngineTransferErrorTests
{
    [Theory]
    [InlineData("pull x: error parsing HTTP 429 response body: unexpected end of JSON input: \"\"", true)]
    [InlineData("push x: received unexpected HTTP status: 503 Service Unavailable", true)]
    // Podman words it so: "trying to reuse blob … at destination: failed to read from destination repository …: 503 (Service Unavailable)".
    [InlineData("push x: trying to reuse blob sha256:c0 at destination: failed to read from destination repository f/app: 503 (Service Unavailable)", true)]
    // and a refused manifest write so (containers/image's "StatusCode: N, body"):
    [InlineData("push x: writing manifest: uploading manifest latest to 127.0.0.1:39437/f/app: StatusCode: 429, ", true)]
    [InlineData("push x: writing manifest: uploading manifest latest to 127.0.0.1:39437/f/app: StatusCode: 502, <html>", true)]
    [InlineData("push x: writing manifest: uploading manifest latest to 127.0.0.1:39437/f/app: StatusCode: 400, ", false)]
    [InlineData("pull x: toomanyrequests: You have reached your pull rate limit", true)]
    [InlineData("pull x: Get \"http://127.0.0.1:5012/v2/\": dial tcp 127.0.0.1:5012: connect: connection refused", true)]
    [InlineData("push x: read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer", true)]
    [InlineData("push x: errors:\ndigest invalid\nmanifest blob unknown: blob unknown to registry", true)]
    [InlineData("pull x: manifest unknown: manifest unknown", false)]
    [InlineData("pull x: unauthorized: authentication required", false)]
    [InlineData("push x: denied: requested access to the resource is denied", false)]
    [InlineData("pull x: Get \"https://nohost.invalid/v2/\": dial tcp: lookup nohost.invalid: no such host", false)]
    [InlineData("push 127.0.0.1:5000/a:dimgstage-1500: An image does not exist locally with the tag: 127.0.0.1:5000/a", false)]
    public void Engine_messages_are_told_transient_or_not(string message, bool transient) =>
        Assert.Equal(transient, new EngineTransferException(message).IsTransient);

    [Fact]
    public void A_manifest_Podman_cannot_read_is_told_apart_from_other_permanent_failures()
    {
        var podman = new EngineTransferException("pull r@sha256:19: parsing image configuration: unsupported image-specific operation on artifact with type \"application/vnd.docker.container.image.v1+json\"");
        Assert.True(podman.IsUnreadableManifest);
        Assert.False(podman.IsTransient);
        Assert.False(new EngineTransferException("pull x: manifest unknown: manifest unknown").IsUnreadableManifest);
    }

    [Theory]
    [InlineData("push x: An image does not exist locally with the tag: x")]
    [InlineData("push x: tag does not exist: 127.0.0.1:5000/a:dimgstage-00")]
    public void A_removed_push_name_is_recognised(string message) => Assert.True(new EngineTransferException(message).IsMissingLocalImage);
}

public class RealmAndNameTests
{
    [Theory]
    [InlineData("https://localhost/token", false, true)]
    [InlineData("http://127.0.0.1:5001/token", true, true)]
    [InlineData("http://auth.example.com/token", false, false)]
    [InlineData("file:///etc/passwd", true, false)]
    [InlineData("http://169.254.169.254/latest/api/token", true, false)]
    [InlineData("https://[fe80::1]/token", false, false)]
    [InlineData("https://user:pw@auth.example.com/token", false, false)]
    [InlineData("/token", true, false)]
    public async Task Token_realms_are_accepted_only_when_safe(string realm, bool registryIsPlainHttp, bool accepted)
    {
        if (accepted) Assert.Equal(new Uri(realm), await TokenRealm.ValidateAsync("reg", realm, registryIsPlainHttp, default));
        else Assert.Equal(RegistryErrorCode.RealmRefused, (await Assert.ThrowsAsync<RegistryException>(() => TokenRealm.ValidateAsync("reg", realm, registryIsPlainHttp, default))).Code);
    }

    [Fact]
    public void Link_local_addresses_are_recognised()
    {
        Assert.True(TokenRealm.IsLinkLocal(IPAddress.Parse("169.254.169.254")));
        Assert.True(TokenRealm.IsLinkLocal(IPAddress.Parse("::ffff:169.254.1.1")));
        Assert.True(TokenRealm.IsLinkLocal(IPAddress.Parse("fe80::1")));
        Assert.False(TokenRealm.IsLinkLocal(IPAddress.Parse("127.0.0.1")));
        Assert.False(TokenRealm.IsLinkLocal(IPAddress.Parse("10.0.0.1")));
    }

    [Theory]
    [InlineData("127.0.0.1:5000/taxi", true)]
    [InlineData("127.0.0.1:65535/taxi", true)]
    [InlineData("127.0.0.1:99999/taxi", false)]
    [InlineData("127.0.0.1:0/taxi", false)]
    public void Repo_ports_are_1_to_65535(string repo, bool valid) => Assert.Equal(valid, DockerNames.IsValidRepo(repo));

    [Fact]
    public void Repository_names_are_at_most_255_characters_after_the_host()
    {
        var path = string.Join("/", Enumerable.Repeat(new string('a', 50), 5));
        Assert.True(DockerNames.IsValidRepo("registry.example.com:5000/" + path + "a"));
        Assert.False(DockerNames.IsValidRepo("registry.example.com:5000/" + path + "/a"));
    }

    [Theory]
    [InlineData("registry.local", true)]
    [InlineData("registry.local:5000", true)]
    [InlineData("http://registry.local", false)]
    [InlineData("registry.local/path", false)]
    [InlineData("registry.local:70000", false)]
    public void Insecure_registry_values_are_hosts(string host, bool valid) => Assert.Equal(valid, DockerNames.IsValidRegistryHost(host));

    [Theory]
    [InlineData("MANIFEST_UNKNOWN", RegistryErrorCode.ManifestUnknown)]
    [InlineData("toomanyrequests", RegistryErrorCode.TooManyRequests)]
    [InlineData("SOMETHING_NEW", RegistryErrorCode.Unknown)]
    [InlineData(null, RegistryErrorCode.Unknown)]
    public void Registry_error_codes_are_typed(string? wire, RegistryErrorCode code)
    {
        Assert.Equal(code, RegistryErrorCodes.Parse(wire));
        if (code != RegistryErrorCode.Unknown) Assert.Equal(wire!.ToUpperInvariant(), code.WireName());
    }
}

public class ProcessOwnerTests
{
    [Fact]
    public void The_owner_label_round_trips_and_tells_live_from_ended_processes()
    {
        var current = ProcessOwner.Current;
        Assert.Equal(current, ProcessOwner.Parse(current.ToString()));
        Assert.False(current.HasEnded(current));
        Assert.True((current with { StartTicks = current.StartTicks + 1 }).HasEnded(current));
        Assert.True((current with { BootId = "another-boot" }).HasEnded(current));
        Assert.False((current with { Host = "another-host", Pid = 1 }).HasEnded(current));
        Assert.Null(ProcessOwner.Parse("not/an/owner"));
        Assert.Null(ProcessOwner.Parse(null));
    }
}

/// <summary>The one verdict every failure answers (<see cref="DappException.IsTransient"/>): what retry loops, lost upload sessions and claims ask.</summary>
public class FailureVerdictTests
{
    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, null, true)]
    [InlineData(HttpStatusCode.InternalServerError, null, true)]
    [InlineData(HttpStatusCode.RequestTimeout, null, true)]
    [InlineData(HttpStatusCode.TooManyRequests, null, true)]
    [InlineData(HttpStatusCode.RequestedRangeNotSatisfiable, null, true)]
    [InlineData(HttpStatusCode.BadRequest, "BLOB_UPLOAD_INVALID", true)]
    [InlineData(HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN", true)]
    [InlineData(HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN", true)]
    [InlineData(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN", false)]
    [InlineData(HttpStatusCode.NotFound, null, false)]
    [InlineData(HttpStatusCode.Unauthorized, "UNAUTHORIZED", false)]
    [InlineData(HttpStatusCode.Forbidden, null, false)]
    [InlineData(HttpStatusCode.MethodNotAllowed, null, false)]
    [InlineData(HttpStatusCode.Conflict, null, false)]
    [InlineData(HttpStatusCode.BadRequest, "TAG_INVALID", false)]
    [InlineData(HttpStatusCode.BadRequest, "DIGEST_INVALID", false)]
    public void Registry_answers_are_transient_or_permanent(HttpStatusCode status, string? wireCode, bool transient)
    {
        IReadOnlyList<RegistryError> errors = wireCode is null ? [] : [new RegistryError(RegistryErrorCodes.Parse(wireCode), wireCode, null)];
        var e = RegistryException.Answered("push manifest r:t", status, null, errors, null, 0);
        Assert.Equal(transient, e.IsTransient);
        Assert.Equal(transient, ((DappException)e).IsTransient);
    }

    [Fact]
    public void No_answer_is_transient_and_the_message_says_how_often_it_was_tried()
    {
        var e = RegistryException.NoAnswer("ping r", "r:5000", new TimeoutException("no answer in 25 s"), 3);
        Assert.True(e.IsTransient);
        Assert.Equal("ping r: the registry r:5000 did not answer (no answer in 25 s, 3 time(s)): is it a Docker registry, and is it up?", e.Message);
        Assert.True(RegistryException.Unreachable("ping r", "r:5000", new IOException("reset"), 5).IsTransient);
        Assert.False(RegistryException.NotHttp("ping r", "http://r:5000", new IOException("x")).IsTransient);
        Assert.False(RegistryException.Unauthorized("r refused the credentials").IsTransient);
    }

    [Fact]
    public void A_transient_status_still_there_says_after_how_many_retries_and_a_quota_says_when_it_renews()
    {
        Assert.EndsWith("503 Service Unavailable (still, after 4 retries)",
            RegistryException.Answered("get m", HttpStatusCode.ServiceUnavailable, "Service Unavailable", [], null, 4).Message);
        Assert.Contains("it asks to wait 30 s", RegistryException.Answered("get m", HttpStatusCode.TooManyRequests, "Too Many Requests", [], TimeSpan.FromSeconds(30), 1).Message);
    }

    [Theory]
    [InlineData("push r: received unexpected HTTP status: 503 Service Unavailable", true)]
    [InlineData("pull r: toomanyrequests: You have reached your pull rate limit", true)]
    [InlineData("push r: blob unknown to registry", true)]
    [InlineData("pull r: manifest unknown", false)]
    [InlineData("push r: denied: requested access to the resource is denied", false)]
    public void Engine_transfer_failures_are_judged_by_the_engine_s_text(string message, bool transient) =>
        Assert.Equal(transient, new EngineTransferException(message).IsTransient);

    [Fact]
    public void A_stall_is_permanent_and_the_engine_s_own_layer_retry_is_transient()
    {
        Assert.False(EngineTransferException.Stalled("push r:t", TimeSpan.FromSeconds(25)).IsTransient);
        Assert.True(EngineTransferException.LayerRetried("pull r:t").IsTransient);
        Assert.False(new DappException("anything else").IsTransient);
    }
}
