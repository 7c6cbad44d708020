using Dapp.Registry.Remote;
using Dapp.Storage;
using Dapp.Transfer;

namespace Dapp.Commands;

/// <summary>The registry options of every command that talks to a registry.</summary>
public sealed record RegistryOptions
{
    public string? Username { get; init; }
    public string? Password { get; init; }
    public IReadOnlyList<string> InsecureRegistries { get; init; } = [];

    public const int DefaultParallelTransfers = 4;

    /// <summary>Parallel stage transfers through the engine.</summary>
    public int ParallelTransfers { get; init; } = DefaultParallelTransfers;

    /// <summary>How pulled stages get into the engine: its own pull (default), or our client feeding its load API.</summary>
    public PullTransfer Transfer { get; init; } = PullTransfer.Engine;

    /// <summary>Where one line per registry request goes (--verbose); null for nowhere.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Where warnings of the registry client go (a silent registry tried once more).</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>Opens REPO: validated, pinged, credentials accepted.</summary>
    public Task<RegistryAccess> OpenAsync(string repo, Func<string, string?> environment, CancellationToken ct) =>
        RegistryAccess.OpenAsync(repo, ClientOptions(environment), ct);

    public StagesTransferOptions TransferOptions => new() { Parallel = ParallelTransfers, LoadPath = Transfer == PullTransfer.Load };

    public RegistryClientOptions ClientOptions(Func<string, string?> environment) => new()
    {
        Log = Log,
        Warn = Warn,
        // Used only when both are given, as dapp did.
        Credential = Username is { Length: > 0 } && Password is { Length: > 0 } ? new RegistryCredential(Username, Password) : null,
        InsecureRegistries = InsecureRegistries,
        Environment = environment,
    };
}

public enum PullTransfer
{
    /// <summary>The engine pulls each image itself (measured the faster path here: bench/README.md).</summary>
    Engine,
    /// <summary>Our client downloads the layers the engine lacks and streams each image into the engine's load API.</summary>
    Load,
}
