using Dapp.Registry.Remote;

namespace Dapp.Commands;

/// <summary>The registry options of every command that talks to a registry.</summary>
public sealed record RegistryOptions
{
    public string? Username { get; init; }
    public string? Password { get; init; }
    public IReadOnlyList<string> InsecureRegistries { get; init; } = [];

    /// <summary>Parallel stage transfers through the engine.</summary>
    public int ParallelTransfers { get; init; } = 4;

    public RegistryClientOptions ClientOptions(Func<string, string?> environment) => new()
    {
        // Used only when both are given, as dapp did.
        Credential = Username is { Length: > 0 } && Password is { Length: > 0 } ? new RegistryCredential(Username, Password) : null,
        InsecureRegistries = InsecureRegistries,
        Environment = environment,
    };
}
