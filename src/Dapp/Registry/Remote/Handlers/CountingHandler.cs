namespace Dapp.Registry.Remote.Handlers;

/// <summary>Counts the requests sent on the wire (each retry and token request included), by kind, for a command's summary.</summary>
internal sealed class CountingHandler(RequestCounter counter, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        counter.Add(RequestCounter.KindOf(request.Method, request.RequestUri?.AbsolutePath ?? ""));
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>What a request is, as registries count them: Docker Hub counts a manifest GET as a pull and a HEAD as none.</summary>
public enum RequestKind
{
    Head,
    ManifestGet,
    BlobGet,
    Put,
    Delete,
    /// <summary>Pings, tag listings, token requests, upload sessions (POST, PATCH).</summary>
    Other,
}

/// <summary>The number of requests a client has sent, by kind.</summary>
public sealed class RequestCounter
{
    private readonly long[] _counts = new long[Enum.GetValues<RequestKind>().Length];

    public long Count => Enum.GetValues<RequestKind>().Sum(Of);

    public long Of(RequestKind kind) => Interlocked.Read(ref _counts[(int)kind]);

    public void Add(RequestKind kind) => Interlocked.Increment(ref _counts[(int)kind]);

    public static RequestKind KindOf(HttpMethod method, string path) => method.Method switch
    {
        "HEAD" => RequestKind.Head,
        "GET" when path.Contains("/manifests/", StringComparison.Ordinal) => RequestKind.ManifestGet,
        "GET" when path.Contains("/blobs/", StringComparison.Ordinal) && !path.Contains("/blobs/uploads/", StringComparison.Ordinal) => RequestKind.BlobGet,
        "PUT" => RequestKind.Put,
        "DELETE" => RequestKind.Delete,
        _ => RequestKind.Other,
    };

    /// <summary>The counts as a report carries them.</summary>
    public Reporting.RequestCounts Counts => new(Of(RequestKind.Head), Of(RequestKind.ManifestGet), Of(RequestKind.BlobGet), Of(RequestKind.Put),
        Of(RequestKind.Delete), Of(RequestKind.Other));

    /// <summary>"HEAD 10, manifest GET 4, blob GET 4, PUT 2, DELETE 0, other 11".</summary>
    public string Describe() =>
        $"HEAD {Of(RequestKind.Head)}, manifest GET {Of(RequestKind.ManifestGet)}, blob GET {Of(RequestKind.BlobGet)}, PUT {Of(RequestKind.Put)}, "
        + $"DELETE {Of(RequestKind.Delete)}, other {Of(RequestKind.Other)}";
}
