namespace Dapp.Registry.Remote;

public sealed record RegistryClientOptions
{
    /// <summary>Registries (host or host:port) reached over plain http; loopback hosts always are.</summary>
    public IReadOnlyCollection<string> InsecureRegistries { get; init; } = [];

    /// <summary>DAPP_INSECURE_REGISTRY=1: every registry over plain http.</summary>
    public bool AllInsecure { get; init; }

    /// <summary>Credentials given on the command line (--registry-username/--registry-password); they win over the Docker config.</summary>
    public RegistryCredential? Credential { get; init; }

    /// <summary>Parallel requests per registry.</summary>
    public int MaxConcurrentRequests { get; init; } = 8;

    public int MaxRetries { get; init; } = 5;
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long to wait for an answer's headers (uploads get more, by their size), and for the next bytes of a body.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(25);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where to write one line per request sent (--verbose); null for nowhere.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Told what the user waits for: a silent registry tried once more after a whole timeout.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>Blobs up to this size are uploaded in one PUT; larger ones in chunks of <see cref="ChunkSize"/>.</summary>
    public long MonolithicUploadLimit { get; init; } = 32L << 20;
    public int ChunkSize { get; init; } = 16 << 20;

    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>The clock of retries and their waits.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>What reaches the registries: the network, unless a test puts an in-memory registry there.</summary>
    internal Func<HttpMessageHandler>? Network { get; init; }

    /// <summary>Reads DAPP_INSECURE_REGISTRY and keeps the rest as given.</summary>
    public RegistryClientOptions WithEnvironmentDefaults() =>
        this with { AllInsecure = AllInsecure || Environment("DAPP_INSECURE_REGISTRY") is "1" or "true" };
}
